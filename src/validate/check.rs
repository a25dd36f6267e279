//! What every check of the spec shares: its result type and the one way to refuse. Its own module, so that the
//! checks (rules, features, formats, scaling, references) all import from here and never from each other.
use super::Refusal;

/// The result of one check: nothing, or the first refusal.
pub(super) type Check = Result<(), Refusal>;

/// Refuses `field` with `reason` when `condition` holds.
pub(super) fn refuse_if(condition: bool, field: &str, reason: &str) -> Check {
    if condition {
        Err(Refusal::new(field, reason))
    } else {
        Ok(())
    }
}
