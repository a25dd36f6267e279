//! CEL rules shared by several fields. A `Quantity` or `IntOrString` field is an int-or-string in the schema, so
//! these rules convert `self` with `string()` first and work on either form.
use kube::core::Rule;

use super::messages;

/// A positive resource quantity such as `5Gi`: the schema of a `Quantity` has no pattern, so without this rule the
/// API server would store `size: "five gigs"`.
pub fn positive_quantity() -> Rule {
    Rule::new("isQuantity(string(self)) && quantity(string(self)).isGreaterThan(quantity('0'))")
        .message(messages::POSITIVE_QUANTITY)
}

/// A pod count or a percentage such as `50%`, as a PodDisruptionBudget takes it.
pub fn count_or_percent() -> Rule {
    Rule::new("string(self).matches('^[0-9]+%?$')")
        .message("must be a number of pods (e.g. 2) or a percentage (e.g. 50%)")
}

/// A URL with an http or https scheme.
pub fn http_url() -> Rule {
    Rule::new("self.startsWith('https://') || self.startsWith('http://')")
        .message("must be an http:// or https:// URL")
}
