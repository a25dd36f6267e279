//! Just enough of Kubernetes' resource.Quantity grammar to check and compare quantities offline.
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// The value of a quantity in base units (bytes, cores), or None when it is not a valid quantity.
pub fn value(quantity: &Quantity) -> Option<f64> {
    let text = quantity.0.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    if number.is_empty() || number.starts_with('.') && number.len() == 1 {
        return None;
    }
    let number: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024.0_f64.powi(2),
        "Gi" => 1024.0_f64.powi(3),
        "Ti" => 1024.0_f64.powi(4),
        "Pi" => 1024.0_f64.powi(5),
        "Ei" => 1024.0_f64.powi(6),
        exponent => {
            let digits = exponent
                .strip_prefix('e')
                .or_else(|| exponent.strip_prefix('E'))?;
            10f64.powi(digits.parse().ok()?)
        }
    };
    let value = number * factor;
    value.is_finite().then_some(value)
}

/// Whether `quantity` is a valid, positive quantity.
pub fn is_positive(quantity: &Quantity) -> bool {
    value(quantity).is_some_and(|v| v > 0.0)
}

/// The sum of two byte quantities, written with the largest binary suffix that states it exactly (`5Gi` + `5Gi`
/// = `10Gi`, `5Gi` + `512Mi` = `5632Mi`), else in bytes; None when either is not a valid quantity.
pub fn sum(a: &Quantity, b: &Quantity) -> Option<Quantity> {
    let total = (value(a)? + value(b)?).ceil();
    if !(0.0..9.0e18).contains(&total) {
        return None;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let bytes = total as u64;
    let suffixes = [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ];
    let text = suffixes
        .iter()
        .find(|(_, shift)| bytes > 0 && bytes % (1u64 << shift) == 0)
        .map(|(suffix, shift)| format!("{}{suffix}", bytes >> shift))
        .unwrap_or_else(|| bytes.to_string());
    Some(Quantity(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity(s.to_string())
    }

    #[test]
    fn binary_and_decimal_suffixes_scale_the_number() {
        assert_eq!(value(&q("5Gi")), Some(5.0 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(value(&q("500m")), Some(0.5));
        assert_eq!(value(&q("2")), Some(2.0));
        assert_eq!(value(&q("1e3")), Some(1000.0));
        assert_eq!(value(&q("1.5G")), Some(1.5e9));
    }

    #[test]
    fn words_and_unknown_suffixes_are_not_quantities() {
        for bad in ["five gigs", "5GB", "", "Gi", ".", "5 Gi"] {
            assert_eq!(value(&q(bad)), None, "{bad:?}");
        }
    }

    #[test]
    fn sums_keep_the_largest_exact_binary_suffix() {
        assert_eq!(sum(&q("5Gi"), &q("5Gi")), Some(q("10Gi")));
        assert_eq!(sum(&q("5Gi"), &q("512Mi")), Some(q("5632Mi")));
        assert_eq!(sum(&q("1G"), &q("1")), Some(q("1000000001")));
        assert_eq!(sum(&q("5Gi"), &q("lots")), None);
    }

    #[test]
    fn zero_and_negative_quantities_are_not_positive() {
        assert!(!is_positive(&q("0")));
        assert!(!is_positive(&q("-1Gi")));
        assert!(is_positive(&q("1Mi")));
    }
}
