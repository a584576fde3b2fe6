//! Mann–Whitney U and the Wilcoxon signed-rank test against R's documented examples
//! (Hollander & Wolfe) and hand-ranked samples with ties; p-values of the normal
//! approximation with tie and continuity corrections, computed by hand.

use rstest::rstest;

use super::{assert_close, lognormal_sample};
use crate::verdict::stats::{
    Alternative, RankTest, StatsError, mann_whitney, wilcoxon_signed_rank,
};

/// `?wilcox.test`'s two-sample example: x (candidate) against y (base); R reports W = 35.
const MW_X: [f64; 10] = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
const MW_Y: [f64; 5] = [1.15, 0.88, 0.90, 0.74, 1.21];
/// Hand-ranked with ties across the samples: U = 2 + 3.5 + 4 + 4 + 5 + 5 = 23.5.
const TIES_BASE: [f64; 5] = [1.0, 2.0, 2.0, 3.0, 5.0];
const TIES_CANDIDATE: [f64; 6] = [2.0, 3.0, 4.0, 4.0, 6.0, 7.0];

#[rstest]
#[case::r_greater(&MW_Y, &MW_X, Alternative::Greater, 35.0, 1.163_507_627_822_009_6, 0.122_311_802_563_491_67)]
#[case::r_less(&MW_Y, &MW_X, Alternative::Less, 35.0, 1.285_982_114_961_168_3, 0.900_775_348_203_993_7)]
#[case::r_two_sided(&MW_Y, &MW_X, Alternative::TwoSided, 35.0, 1.163_507_627_822_009_6, 0.244_623_605_126_983_33)]
#[case::ties_greater(&TIES_BASE, &TIES_CANDIDATE, Alternative::Greater, 23.5, 1.480_927_553_071_210_5, 0.069_312_939_939_463_86)]
#[case::ties_two_sided(&TIES_BASE, &TIES_CANDIDATE, Alternative::TwoSided, 23.5, 1.480_927_553_071_210_5, 0.138_625_879_878_927_72)]
fn mann_whitney_known_examples(
    #[case] base: &[f64],
    #[case] candidate: &[f64],
    #[case] alternative: Alternative,
    #[case] u: f64,
    #[case] z: f64,
    #[case] p: f64,
) {
    let test = mann_whitney(base, candidate, alternative).expect("valid samples");
    assert_eq!(test.statistic, u);
    assert_close(test.z, z, 1e-9);
    assert_close(test.p_value, p, 1e-9);
}

/// `?wilcox.test`'s paired example: x after (candidate), y before (base); R reports V = 40.
const WX_X: [f64; 9] = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30];
#[expect(
    clippy::approx_constant,
    reason = "3.14 is a measurement in R's data, not π"
)]
const WX_Y: [f64; 9] = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
/// Differences 2, −2, 0, 3, 2, −3, 4, 1: the zero is dropped, |2| ranks 3 (three ties), |3|
/// ranks 5.5 (two): W+ = 3 + 5.5 + 3 + 7 + 1 = 19.5.
const WX_TIES_BASE: [f64; 8] = [10.0; 8];
const WX_TIES_CANDIDATE: [f64; 8] = [12.0, 8.0, 10.0, 13.0, 12.0, 7.0, 14.0, 11.0];

#[rstest]
#[case::r_greater(&WX_Y, &WX_X, Alternative::Greater, 40.0, 2.013_986_184_380_913_7, 0.022_005_492_006_475_73)]
#[case::r_less(&WX_Y, &WX_X, Alternative::Less, 40.0, 2.132_455_959_932_732, 0.983_515_309_377_889_9)]
#[case::r_two_sided(&WX_Y, &WX_X, Alternative::TwoSided, 40.0, 2.013_986_184_380_913_7, 0.044_010_984_012_951_46)]
#[case::ties_and_zero(&WX_TIES_BASE, &WX_TIES_CANDIDATE, Alternative::Greater, 19.5, 0.852_802_865_422_441_7, 0.196_884_317_321_496_42)]
#[case::ties_two_sided(&WX_TIES_BASE, &WX_TIES_CANDIDATE, Alternative::TwoSided, 19.5, 0.852_802_865_422_441_7, 0.393_768_634_642_992_83)]
fn wilcoxon_known_examples(
    #[case] base: &[f64],
    #[case] candidate: &[f64],
    #[case] alternative: Alternative,
    #[case] w_plus: f64,
    #[case] z: f64,
    #[case] p: f64,
) {
    let test = wilcoxon_signed_rank(base, candidate, alternative).expect("valid samples");
    assert_eq!(test.statistic, w_plus);
    assert_close(test.z, z, 1e-9);
    assert_close(test.p_value, p, 1e-9);
}

#[test]
fn a_seeded_20_percent_shift_is_significant_in_its_direction_only() {
    let base = lognormal_sample(51, 30, 10.0, 0.1);
    let candidate: Vec<f64> = lognormal_sample(52, 30, 12.0, 0.1);
    let greater = mann_whitney(&base, &candidate, Alternative::Greater).expect("valid");
    let less = mann_whitney(&base, &candidate, Alternative::Less).expect("valid");
    assert!(greater.p_value < 1e-4, "{greater:?}");
    assert!(less.p_value > 0.999, "{less:?}");
    let paired = wilcoxon_signed_rank(&base, &candidate, Alternative::Greater).expect("valid");
    assert!(paired.p_value < 1e-3, "{paired:?}");
}

#[test]
fn no_spread_is_no_evidence() {
    let same = [3.0; 4];
    let expected = RankTest {
        statistic: 8.0,
        z: 0.0,
        p_value: 1.0,
    };
    assert_eq!(
        mann_whitney(&same, &same, Alternative::Greater),
        Ok(expected)
    );
    let unchanged = wilcoxon_signed_rank(&same, &same, Alternative::TwoSided).expect("valid");
    assert_eq!((unchanged.statistic, unchanged.p_value), (0.0, 1.0));
}

#[rstest]
#[case::mw_one_base(mann_whitney(&[1.0], &[1.0, 2.0], Alternative::Less),
    StatsError::TooFewSamples { needed: 2, got: 1 })]
#[case::mw_nan(mann_whitney(&[1.0, 2.0], &[f64::NAN, 2.0], Alternative::Less),
    StatsError::NonFinite)]
#[case::wx_unpaired(wilcoxon_signed_rank(&[1.0, 2.0], &[1.0, 2.0, 3.0], Alternative::Greater),
    StatsError::LengthMismatch { base: 2, candidate: 3 })]
#[case::wx_one_pair(wilcoxon_signed_rank(&[1.0], &[2.0], Alternative::Greater),
    StatsError::TooFewSamples { needed: 2, got: 1 })]
fn bad_input_is_refused(
    #[case] result: Result<RankTest, StatsError>,
    #[case] expected: StatsError,
) {
    assert_eq!(result, Err(expected));
}
