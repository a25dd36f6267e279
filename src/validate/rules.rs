//! The checks of [`super::validate`], in the order a person fixing a spec would want them: the CRD's own rules
//! first (storage and database here; features, scaling and formats beside), then what only the operator can
//! judge.
use crate::api::v1alpha1::{DatabaseType, StorageType, ZotArtifactStoreSpec, messages as msg};

use super::Refusal;
use super::check::{Check, refuse_if};
use super::{features, field_formats, quantity, scaling};

/// The store's name must be usable as the name of Services and StatefulSet pods.
pub(super) fn check_name(name: &str) -> Check {
    let dns_label = name.len() <= 52
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    refuse_if(!dns_label, "metadata.name", msg::NAME)
}
/// Every rule of the spec but the database kind ([`database_kind`], checked first).
pub(super) fn check(spec: &ZotArtifactStoreSpec) -> Check {
    check_sections(spec)?;
    check_replicas(spec)?;
    check_quantities(spec)?;
    features::check_supply_chain(spec)?;
    features::check_networking(spec)?;
    features::check_observability(spec)?;
    scaling::check_scaling(spec)?;
    features::check_extensions(spec)?;
    field_formats::check_formats(spec)?;
    check_security_context(spec)?;
    scaling::check_resources(spec)
}

/// What restricted Pod Security refuses in spec.securityContext (mirrors the CRD's rules).
fn check_security_context(spec: &ZotArtifactStoreSpec) -> Check {
    let Some(sc) = spec.security_context.as_ref() else {
        return Ok(());
    };
    let field = "spec.securityContext";
    refuse_if(sc.run_as_user == Some(0), field, msg::SC_ROOT_USER)?;
    refuse_if(
        sc.run_as_non_root == Some(false),
        field,
        msg::SC_RUN_AS_ROOT,
    )?;
    refuse_if(
        sc.seccomp_profile
            .as_ref()
            .is_some_and(|p| p.type_ == "Unconfined"),
        field,
        msg::SC_SECCOMP,
    )?;
    refuse_if(
        sc.app_armor_profile
            .as_ref()
            .is_some_and(|p| p.type_ == "Unconfined"),
        field,
        msg::SC_APPARMOR,
    )?;
    refuse_if(
        sc.se_linux_options.as_ref().is_some_and(|o| {
            o.user.is_some()
                || o.role.is_some()
                || o.type_.as_deref().is_some_and(|t| {
                    ![
                        "container_t",
                        "container_init_t",
                        "container_kvm_t",
                        "container_engine_t",
                    ]
                    .contains(&t)
                })
        }),
        field,
        msg::SC_SELINUX,
    )?;
    refuse_if(
        sc.sysctls.as_ref().is_some_and(|s| {
            s.iter()
                .any(|c| !msg::SAFE_SYSCTLS.contains(&c.name.as_str()))
        }),
        field,
        msg::SC_SYSCTLS,
    )?;
    refuse_if(
        sc.windows_options.as_ref().and_then(|w| w.host_process) == Some(true),
        field,
        msg::SC_HOST_PROCESS,
    )
}
/// A database kind zot has a driver for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum DatabaseKind {
    Embedded,
    Redis,
    Dynamodb,
}

/// The database kind, or the one refusal of the SQL databases the product documents name and zot cannot use.
pub(super) fn database_kind(spec: &ZotArtifactStoreSpec) -> Result<DatabaseKind, Refusal> {
    match spec.database.type_ {
        DatabaseType::Embedded => Ok(DatabaseKind::Embedded),
        DatabaseType::Redis => Ok(DatabaseKind::Redis),
        DatabaseType::Dynamodb => Ok(DatabaseKind::Dynamodb),
        DatabaseType::Postgres => Err(Refusal::new("spec.database.type", msg::POSTGRES)),
        DatabaseType::Mysql => Err(Refusal::new("spec.database.type", msg::MYSQL)),
    }
}
fn check_sections(spec: &ZotArtifactStoreSpec) -> Check {
    let storage = &spec.storage;
    let t = storage.type_;
    refuse_if(
        t != StorageType::Filesystem && (storage.size.is_some() || storage.storage_class.is_some()),
        "spec.storage.size",
        msg::VOLUME_WITH_REMOTE,
    )?;
    for (present, kind, field) in [
        (storage.s3.is_some(), StorageType::S3, "spec.storage.s3"),
        (storage.gcs.is_some(), StorageType::Gcs, "spec.storage.gcs"),
        (
            storage.azure.is_some(),
            StorageType::Azure,
            "spec.storage.azure",
        ),
    ] {
        refuse_if(present && t != kind, field, msg::OTHER_STORAGE_SECTION)?;
    }
    refuse_if(
        storage.gc == Some(false) && (storage.gc_interval.is_some() || storage.gc_delay.is_some()),
        "spec.storage",
        msg::GC_SETTINGS_WITHOUT_GC,
    )?;
    refuse_if(
        storage.gc == Some(false) && storage.retention.is_some(),
        "spec.storage",
        msg::RETENTION_WITHOUT_GC,
    )?;
    let db = &spec.database;
    for (present, kind, field) in [
        (
            db.embedded.is_some(),
            DatabaseType::Embedded,
            "spec.database.embedded",
        ),
        (
            db.redis.is_some(),
            DatabaseType::Redis,
            "spec.database.redis",
        ),
        (
            db.dynamodb.is_some(),
            DatabaseType::Dynamodb,
            "spec.database.dynamodb",
        ),
        (
            db.postgres.is_some(),
            DatabaseType::Postgres,
            "spec.database.postgres",
        ),
        (
            db.mysql.is_some(),
            DatabaseType::Mysql,
            "spec.database.mysql",
        ),
    ] {
        refuse_if(
            present && db.type_ != kind,
            field,
            msg::OTHER_DATABASE_SECTION,
        )?;
    }
    if let Some(redis) = &db.redis {
        let rest = redis
            .url
            .strip_prefix("redis://")
            .or_else(|| redis.url.strip_prefix("rediss://"));
        let host = rest.map(|r| r.split('/').next().unwrap_or_default());
        refuse_if(
            !host.is_some_and(|h| !h.is_empty() && !h.contains('@')),
            "spec.database.redis.url",
            "must be redis://host:port[/db] or rediss://…, without user or password: put the password in a Secret and name it in passwordSecretRef",
        )?;
        refuse_if(
            redis.url.starts_with("rediss://") && redis.password_secret_ref.is_some(),
            "spec.database.redis",
            msg::REDIS_TLS_PASSWORD,
        )?;
    }
    refuse_if(
        db.type_ == DatabaseType::Dynamodb && t != StorageType::S3,
        "spec.database.type",
        msg::DYNAMODB_NEEDS_S3,
    )?;
    refuse_if(
        t == StorageType::Filesystem
            && db.embedded.as_ref().is_some_and(|e| {
                e.storage_class.is_some() && e.storage_class != storage.storage_class
            }),
        "spec.database.embedded.storageClass",
        msg::EMBEDDED_CLASS_WITH_FILESYSTEM,
    )?;
    let rbac = &spec.rbac;
    refuse_if(
        rbac.enabled && rbac.keycloak.is_none() && rbac.htpasswd.is_none(),
        "spec.rbac",
        msg::RBAC_NEEDS_SIGN_IN,
    )?;
    for (i, policy) in rbac.policies.iter().enumerate() {
        let field = format!("spec.rbac.policies[{i}]");
        refuse_if(
            policy.users.is_empty() && policy.groups.is_empty(),
            &field,
            "a policy needs at least one user or group",
        )?;
        refuse_if(
            policy.repositories.is_empty()
                || policy.repositories.iter().any(|r| r.trim().is_empty()),
            &format!("{field}.repositories"),
            "a policy needs at least one non-empty repository glob, e.g. team-a/** or ** for all",
        )?;
        refuse_if(
            policy.actions.is_empty(),
            &format!("{field}.actions"),
            "a policy needs at least one action",
        )?;
    }
    Ok(())
}
fn check_replicas(spec: &ZotArtifactStoreSpec) -> Check {
    refuse_if(
        !(0..=100).contains(&spec.replicas),
        "spec.replicas",
        "must be between 0 and 100",
    )?;
    refuse_if(
        spec.storage.type_ == StorageType::Filesystem && spec.replicas > 1,
        "spec.replicas",
        msg::FILESYSTEM_REPLICAS,
    )?;
    refuse_if(
        spec.database.type_ == DatabaseType::Embedded && spec.replicas > 1,
        "spec.replicas",
        msg::EMBEDDED_REPLICAS,
    )?;
    let shared = spec.storage.type_ != StorageType::Filesystem
        && matches!(
            spec.database.type_,
            DatabaseType::Redis | DatabaseType::Dynamodb
        );
    refuse_if(
        spec.autoscaling.enabled && !shared,
        "spec.autoscaling.enabled",
        msg::AUTOSCALING_NEEDS_SHARED,
    )
}
fn check_quantities(spec: &ZotArtifactStoreSpec) -> Check {
    let sizes = [
        ("spec.storage.size", spec.storage.size.as_ref()),
        (
            "spec.database.embedded.storageSize",
            spec.database
                .embedded
                .as_ref()
                .and_then(|e| e.storage_size.as_ref()),
        ),
    ];
    for (field, size) in sizes {
        refuse_if(
            size.is_some_and(|q| !quantity::is_positive(q)),
            field,
            msg::POSITIVE_QUANTITY,
        )?;
    }
    Ok(())
}
