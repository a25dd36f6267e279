//! Where a release goes in the upgrade graph: its channels, the bundle it replaces in each and the versions it skips.
//!
//! A release goes to `alpha`; a release without a pre-release part (`0.2.0`, not `0.2.0-rc.1`) goes to `stable`
//! too. In every channel it replaces the highest earlier version of that channel, and its `olm.skipRange` lets every
//! version from the first one in the catalog on upgrade straight to it. A version lower than one the catalog already
//! holds is refused; the version the catalog's newest entry already has is regenerated in place.
use std::collections::{BTreeMap, BTreeSet};

use semver::Version;

/// The channel every release goes to, pre-releases included.
pub const ALPHA: &str = "alpha";
/// The channel of releases without a pre-release part; the package's default channel.
pub const STABLE: &str = "stable";
/// Channels in the order annotations.yaml lists them.
pub const CHANNELS: [&str; 2] = [ALPHA, STABLE];
/// The channel OperatorHub subscribes to unless told otherwise.
pub const DEFAULT_CHANNEL: &str = STABLE;

/// Versions already published, per channel.
pub type Published = BTreeMap<String, BTreeSet<Version>>;

/// A release's place in the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub version: Version,
    /// Channels the release joins, each with the version it replaces there (None for the channel's first).
    pub channels: Vec<(&'static str, Option<Version>)>,
    /// The version the CSV's `spec.replaces` names: the highest earlier version of any channel.
    pub replaces: Option<Version>,
    /// `olm.skipRange`, e.g. `>=0.1.0 <0.3.0`.
    pub skip_range: String,
}

impl Plan {
    /// The channels the release joins, comma-separated, as annotations.yaml lists them.
    pub fn channel_list(&self) -> String {
        self.channels
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error(
        "version {new} does not increase: the catalog already holds {latest}; raise the version in Cargo.toml"
    )]
    NotIncreasing { new: Version, latest: Version },
    #[error(
        "the default channel '{DEFAULT_CHANNEL}' would be empty: the first release must not be a pre-release ({new})"
    )]
    EmptyDefaultChannel { new: Version },
}

/// Plans the release of `new` into a catalog that already publishes `published`.
pub fn plan(published: &Published, new: &Version) -> Result<Plan, PlanError> {
    let all: BTreeSet<&Version> = published.values().flatten().collect();
    if let Some(latest) = all.iter().copied().max().filter(|latest| *latest > new) {
        return Err(PlanError::NotIncreasing {
            new: new.clone(),
            latest: latest.clone(),
        });
    }
    let earlier =
        |versions: &BTreeSet<Version>| versions.iter().filter(|v| *v < new).max().cloned();
    let wanted: &[&'static str] = if new.pre.is_empty() {
        &CHANNELS
    } else {
        &[ALPHA]
    };
    let channels: Vec<(&'static str, Option<Version>)> = wanted
        .iter()
        .map(|name| (*name, published.get(*name).and_then(earlier)))
        .collect();
    let default_has_versions = published
        .get(DEFAULT_CHANNEL)
        .is_some_and(|versions| versions.iter().any(|v| v != new));
    if !default_has_versions && !wanted.contains(&DEFAULT_CHANNEL) {
        return Err(PlanError::EmptyDefaultChannel { new: new.clone() });
    }
    let first = all
        .iter()
        .copied()
        .filter(|v| *v < new)
        .min()
        .cloned()
        .unwrap_or(Version::new(0, 0, 0));
    Ok(Plan {
        version: new.clone(),
        channels,
        replaces: all.iter().copied().filter(|v| *v < new).max().cloned(),
        skip_range: format!(">={first} <{new}"),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn published(entries: &[(&str, &[&str])]) -> Published {
        entries
            .iter()
            .map(|(channel, versions)| {
                (channel.to_string(), versions.iter().map(|s| v(s)).collect())
            })
            .collect()
    }

    #[test]
    fn the_first_release_replaces_nothing_and_skips_everything_before_it() {
        let plan = plan(&Published::new(), &v("0.1.0")).unwrap();
        assert_eq!(plan.channels, vec![(ALPHA, None), (STABLE, None)]);
        assert_eq!(plan.replaces, None);
        assert_eq!(plan.skip_range, ">=0.0.0 <0.1.0");
        assert_eq!(plan.channel_list(), "alpha,stable");
    }

    #[test]
    fn a_new_release_replaces_the_previous_one_and_skips_from_the_first() {
        let catalog = published(&[(ALPHA, &["0.1.0", "0.2.0"]), (STABLE, &["0.1.0", "0.2.0"])]);
        let plan = plan(&catalog, &v("0.3.0")).unwrap();
        assert_eq!(
            plan.channels,
            vec![(ALPHA, Some(v("0.2.0"))), (STABLE, Some(v("0.2.0")))]
        );
        assert_eq!(plan.replaces, Some(v("0.2.0")));
        assert_eq!(plan.skip_range, ">=0.1.0 <0.3.0");
    }

    #[test]
    fn regenerating_the_newest_release_gives_the_same_plan() {
        let before = plan(
            &published(&[(ALPHA, &["0.1.0"]), (STABLE, &["0.1.0"])]),
            &v("0.2.0"),
        )
        .unwrap();
        let again = plan(
            &published(&[(ALPHA, &["0.1.0", "0.2.0"]), (STABLE, &["0.1.0", "0.2.0"])]),
            &v("0.2.0"),
        )
        .unwrap();
        assert_eq!(before, again);
    }

    #[test]
    fn a_version_lower_than_a_published_one_is_refused() {
        let catalog = published(&[(ALPHA, &["0.1.0", "0.2.0"]), (STABLE, &["0.1.0", "0.2.0"])]);
        let err = plan(&catalog, &v("0.1.5")).unwrap_err();
        assert_eq!(
            err,
            PlanError::NotIncreasing {
                new: v("0.1.5"),
                latest: v("0.2.0")
            }
        );
        assert!(err.to_string().contains("does not increase"));
    }

    #[test]
    fn a_pre_release_goes_to_alpha_only() {
        let catalog = published(&[(ALPHA, &["0.1.0"]), (STABLE, &["0.1.0"])]);
        let plan = plan(&catalog, &v("0.2.0-rc.1")).unwrap();
        assert_eq!(plan.channels, vec![(ALPHA, Some(v("0.1.0")))]);
        assert_eq!(plan.channel_list(), "alpha");
        assert_eq!(plan.skip_range, ">=0.1.0 <0.2.0-rc.1");
    }

    #[test]
    fn a_release_after_a_pre_release_replaces_it_in_alpha_and_the_last_release_in_stable() {
        let catalog = published(&[(ALPHA, &["0.1.0", "0.2.0-rc.1"]), (STABLE, &["0.1.0"])]);
        let plan = plan(&catalog, &v("0.2.0")).unwrap();
        assert_eq!(
            plan.channels,
            vec![(ALPHA, Some(v("0.2.0-rc.1"))), (STABLE, Some(v("0.1.0")))]
        );
        assert_eq!(plan.replaces, Some(v("0.2.0-rc.1")));
        assert_eq!(plan.skip_range, ">=0.1.0 <0.2.0");
    }

    #[test]
    fn a_release_is_refused_below_a_published_pre_release_of_a_higher_version() {
        let catalog = published(&[(ALPHA, &["0.1.0", "0.3.0-rc.1"]), (STABLE, &["0.1.0"])]);
        assert!(matches!(
            plan(&catalog, &v("0.2.0")),
            Err(PlanError::NotIncreasing { .. })
        ));
    }

    #[test]
    fn a_first_release_that_is_a_pre_release_is_refused_because_stable_would_be_empty() {
        assert_eq!(
            plan(&Published::new(), &v("0.1.0-rc.1")),
            Err(PlanError::EmptyDefaultChannel {
                new: v("0.1.0-rc.1")
            })
        );
    }

    #[test]
    fn semver_orders_versions_numerically_not_as_text() {
        let catalog = published(&[(ALPHA, &["0.9.0"]), (STABLE, &["0.9.0"])]);
        let plan = plan(&catalog, &v("0.10.0")).unwrap();
        assert_eq!(plan.replaces, Some(v("0.9.0")));
    }
}
