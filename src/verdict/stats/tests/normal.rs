//! `normal_cdf` and `normal_inverse_cdf` at known points and against each other.

use rstest::rstest;

use super::assert_close;
use crate::verdict::stats::{normal_cdf, normal_inverse_cdf};

#[rstest]
#[case::centre(0.0, 0.5)]
#[case::plus_1_96(1.96, 0.975_002_104_851_779_5)]
#[case::minus_1_96(-1.96, 0.024_997_895_148_220_435)]
#[case::plus_one(1.0, 0.841_344_746_068_542_9)]
#[case::minus_one(-1.0, 0.158_655_253_931_457_07)]
#[case::plus_three(3.0, 0.998_650_101_968_369_9)]
#[case::far_tail_continued_fraction(-8.0, 6.220_960_574_271_819e-16)]
#[case::underflow(-40.0, 0.0)]
#[case::overflow(40.0, 1.0)]
fn cdf_at_known_points(#[case] x: f64, #[case] expected: f64) {
    assert_close(normal_cdf(x), expected, 1e-14);
}

#[test]
fn cdf_far_tail_is_relatively_accurate() {
    let relative = (normal_cdf(-5.0) - 2.866_515_718_791_946e-7).abs() / 2.866_515_718_791_946e-7;
    assert!(relative < 1e-8, "relative error {relative}");
}

#[rstest]
#[case::centre(0.5, 0.0)]
#[case::upper_2_5_percent(0.975, 1.959_963_984_540_054)]
#[case::lower_2_5_percent(0.025, -1.959_963_984_540_054)]
#[case::one_sided_95(0.95, 1.644_853_626_951_471_5)]
#[case::power_80(0.8, 0.841_621_233_572_914_4)]
#[case::lower_tail_region(0.01, -2.326_347_874_040_840_8)]
#[case::upper_tail_region(0.99, 2.326_347_874_040_840_8)]
#[case::one_in_a_million(1e-6, -4.753_424_308_822_899)]
fn inverse_cdf_at_known_points(#[case] p: f64, #[case] expected: f64) {
    assert_close(normal_inverse_cdf(p), expected, 1e-9);
}

#[test]
fn inverse_cdf_inverts_cdf() {
    for i in 1..1000 {
        let p = f64::from(i) / 1000.0;
        assert_close(normal_cdf(normal_inverse_cdf(p)), p, 1e-13);
    }
}

#[test]
fn inverse_cdf_edges() {
    assert_eq!(normal_inverse_cdf(0.0), f64::NEG_INFINITY);
    assert_eq!(normal_inverse_cdf(1.0), f64::INFINITY);
    assert!(normal_inverse_cdf(1.5).is_nan());
    assert!(normal_inverse_cdf(-0.1).is_nan());
    assert!(normal_inverse_cdf(f64::NAN).is_nan());
    assert!(normal_cdf(f64::NAN).is_nan());
}
