//! Small value formats zot and Kubernetes accept: Go durations and pod counts or percentages.
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// Seconds in a Go duration such as `1h30m` (units ns, us, ms, s, m, h), or None when it is not one.
pub fn duration_seconds(text: &str) -> Option<f64> {
    if text.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, seconds) = [
            ("ns", 1e-9),
            ("us", 1e-6),
            ("ms", 1e-3),
            ("s", 1.0),
            ("m", 60.0),
            ("h", 3600.0),
        ]
        .into_iter()
        .find(|(unit, _)| rest.starts_with(unit))?;
        rest = &rest[unit.len()..];
        total += number * seconds;
    }
    Some(total)
}

/// Whether a PodDisruptionBudget value is a non-negative count or a percentage such as `50%`.
pub fn is_count_or_percent(value: &IntOrString) -> bool {
    match value {
        IntOrString::Int(n) => *n >= 0,
        IntOrString::String(s) => {
            let digits = s.strip_suffix('%').unwrap_or(s);
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_add_up_their_parts() {
        assert_eq!(duration_seconds("2h"), Some(7200.0));
        assert_eq!(duration_seconds("1h30m"), Some(5400.0));
        assert_eq!(duration_seconds("90s"), Some(90.0));
        assert_eq!(duration_seconds("500ms"), Some(0.5));
    }

    #[test]
    fn text_that_is_not_a_go_duration_is_refused() {
        for bad in ["", "h", "2", "2 h", "2d", "-1h"] {
            assert_eq!(duration_seconds(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn disruption_values_are_counts_or_percentages() {
        assert!(is_count_or_percent(&IntOrString::Int(2)));
        assert!(is_count_or_percent(&IntOrString::String("50%".into())));
        assert!(is_count_or_percent(&IntOrString::String("2".into())));
        assert!(!is_count_or_percent(&IntOrString::Int(-1)));
        assert!(!is_count_or_percent(&IntOrString::String("half".into())));
        assert!(!is_count_or_percent(&IntOrString::String("%".into())));
    }
}
