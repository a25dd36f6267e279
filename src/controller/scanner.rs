//! Whether the registries zot's vulnerability scanner downloads Trivy's databases from answer (see
//! `crate::vulndb`), asked from the operator's network at most every few minutes per registry.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::context::Context;
use crate::status::DatabaseAnswer;
use crate::validate::ValidatedStore;
use crate::vulndb;

/// How long an answer is reused.
const FRESH: Duration = Duration::from_secs(300);

/// An answer (or the error chain) and when it came.
type Answer = (Instant, Result<(), String>);

/// Recent answers by registry host.
#[derive(Default)]
pub struct Answers(Mutex<HashMap<String, Answer>>);

impl Answers {
    fn get(&self, host: &str) -> Option<Result<(), String>> {
        let answers = self.0.lock().ok()?;
        let (at, answer) = answers.get(host)?;
        (at.elapsed() < FRESH).then(|| answer.clone())
    }

    fn put(&self, host: &str, answer: Result<(), String>) {
        if let Ok(mut answers) = self.0.lock() {
            if answers.len() >= 1024 {
                answers.clear();
            }
            answers.insert(host.to_string(), (Instant::now(), answer));
        }
    }
}

/// The databases of `store`'s scanner and whether each registry answers; empty without the scanner.
pub async fn databases(ctx: &Context, store: &ValidatedStore) -> Vec<DatabaseAnswer> {
    let mut out = Vec::new();
    for source in vulndb::sources(store) {
        let answer = match ctx.registry_answers.get(source.host()) {
            Some(answer) => answer,
            None => {
                let answer = vulndb::probe(ctx.s3.http(), &source).await;
                ctx.registry_answers.put(source.host(), answer.clone());
                answer
            }
        };
        out.push(DatabaseAnswer { source, answer });
    }
    out
}
