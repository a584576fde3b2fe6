//! Replication labels: the cartesian product of every label's values, and how one copy's label
//! set is made from a source series (override, or keep the source value as a prefix).

#[cfg(any(test, feature = "internals"))]
use crate::prom::remote_write::{Label, canonical_labels};

pub use crate::spec::MAX_COPIES;

/// The values of each replication label, in spec order. Copies are the cartesian product.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSpace {
    labels: Vec<(String, Vec<String>)>,
}

impl LabelSpace {
    /// `labels`: each name with its values (a count `n` is the values `0`..`n-1`, see
    /// [`LabelSpace::counted`]). Errors when a label has no values or the product overflows
    /// [`MAX_COPIES`].
    pub fn new(labels: Vec<(String, Vec<String>)>) -> Result<Self, String> {
        let mut total: u64 = 1;
        for (i, (name, values)) in labels.iter().enumerate() {
            if labels[..i].iter().any(|(n, _)| n == name) {
                return Err(format!("replication label `{name}` is given twice"));
            }
            if values.is_empty() {
                return Err(format!("replication label `{name}` has no values"));
            }
            if values.iter().any(String::is_empty) {
                return Err(crate::spec::empty_label_value(name));
            }
            total = total
                .checked_mul(values.len() as u64)
                .filter(|t| *t <= MAX_COPIES)
                .ok_or_else(|| {
                    format!("the replication labels make more than {MAX_COPIES} copies per series")
                })?;
        }
        Ok(Self { labels })
    }

    /// The values a count stands for: `0`, `1`, …, `n-1`.
    pub fn counted(n: u32) -> Vec<String> {
        crate::spec::counted_values(n)
    }

    /// Each label with its values, in spec order.
    pub fn labels(&self) -> &[(String, Vec<String>)] {
        &self.labels
    }

    /// Copies per source series: the product of the value counts (1 when there are no labels).
    pub fn copies(&self) -> u64 {
        self.labels.iter().map(|(_, v)| v.len() as u64).product()
    }

    /// The `index`-th combination, the last label varying fastest (odometer order).
    #[cfg(any(test, feature = "internals"))]
    pub fn combination(&self, mut index: u64) -> Vec<(&str, &str)> {
        let mut out = vec![("", ""); self.labels.len()];
        for (slot, (name, values)) in out.iter_mut().zip(&self.labels).rev() {
            let n = values.len() as u64;
            let i = (index % n) as usize;
            index /= n;
            *slot = (name.as_str(), values[i].as_str());
        }
        out
    }

    /// Every combination, in order.
    #[cfg(any(test, feature = "internals"))]
    pub fn combinations(&self) -> impl Iterator<Item = Vec<(&str, &str)>> + '_ {
        (0..self.copies()).map(|i| self.combination(i))
    }
}

/// The label set of one copy: `source` (made canonical: no empty value, byte order) with each
/// replication label
/// set. When the source already has that label, its value is kept as a prefix (`eu` → `eu-0`)
/// so distinct source series never collapse into one copy.
#[cfg(any(test, feature = "internals"))]
pub fn copy_labels(source: &[Label], combination: &[(&str, &str)]) -> Vec<Label> {
    let mut labels = source.to_vec();
    // An empty source value is no label: a replication label of that name is added, not
    // prefixed by `""`.
    canonical_labels(&mut labels);
    for (name, value) in combination {
        match labels.iter_mut().find(|l| l.name == *name) {
            Some(existing) => existing.value = format!("{}-{value}", existing.value),
            None => labels.push(Label::new(*name, *value)),
        }
    }
    canonical_labels(&mut labels);
    labels
}

/// `"cluster=0,1,2;replica=a,b"` → the space of those two labels (a shorthand for tests).
#[cfg(test)]
pub(crate) fn space(spec: &str) -> LabelSpace {
    LabelSpace::new(
        spec.split(';')
            .filter(|s| !s.is_empty())
            .map(|l| {
                let (name, values) = l.split_once('=').expect("name=values");
                (
                    name.to_owned(),
                    values.split(',').map(str::to_owned).collect(),
                )
            })
            .collect(),
    )
    .expect("valid space")
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn render(space: &LabelSpace) -> Vec<String> {
        space
            .combinations()
            .map(|c| {
                c.iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect()
    }

    #[rstest]
    #[case::no_labels("", &[""])]
    #[case::one_count("cluster=0,1,2", &["cluster=0", "cluster=1", "cluster=2"])]
    #[case::count_by_list(
        "cluster=0,1,2;replica=a,b",
        &["cluster=0,replica=a", "cluster=0,replica=b", "cluster=1,replica=a",
          "cluster=1,replica=b", "cluster=2,replica=a", "cluster=2,replica=b"],
    )]
    #[case::single_values("a=x;b=y", &["a=x,b=y"])]
    #[case::three_labels(
        "a=1,2;b=x;c=p,q",
        &["a=1,b=x,c=p", "a=1,b=x,c=q", "a=2,b=x,c=p", "a=2,b=x,c=q"],
    )]
    fn cartesian_product(#[case] spec: &str, #[case] expected: &[&str]) {
        let space = space(spec);
        assert_eq!(space.copies(), expected.len() as u64);
        assert_eq!(render(&space), expected);
    }

    #[rstest]
    #[case::empty_values(vec![("a".to_owned(), vec![])], "no values")]
    #[case::twice(
        vec![("a".to_owned(), vec!["1".to_owned()]), ("a".to_owned(), vec!["2".to_owned()])],
        "`a` is given twice",
    )]
    #[case::empty_value(
        vec![("rwc".to_owned(), vec![String::new(), "x".to_owned()])],
        "replication label `rwc` has an empty value",
    )]
    #[case::too_many(
        vec![("a".to_owned(), LabelSpace::counted(1001)), ("b".to_owned(), LabelSpace::counted(1000))],
        "more than 1000000 copies",
    )]
    fn rejected_spaces(#[case] labels: Vec<(String, Vec<String>)>, #[case] needle: &str) {
        let err = LabelSpace::new(labels).expect_err("invalid");
        assert!(err.contains(needle), "{err}");
    }

    #[test]
    fn counted_values_start_at_zero() {
        assert_eq!(LabelSpace::counted(3), ["0", "1", "2"]);
    }

    #[rstest]
    #[case::added(&[("cluster", "1")], &["__name__=up", "cluster=1", "job=api"])]
    #[case::prefixed(&[("job", "2")], &["__name__=up", "job=api-2"])]
    #[case::both(&[("zone", "b"), ("job", "0")], &["__name__=up", "job=api-0", "zone=b"])]
    #[case::upper_case_before_the_name(&[("Rwc", "a")], &["Rwc=a", "__name__=up", "job=api"])]
    fn copy_label_sets(#[case] combination: &[(&str, &str)], #[case] expected: &[&str]) {
        let source = vec![Label::new("__name__", "up"), Label::new("job", "api")];
        let got: Vec<String> = copy_labels(&source, combination)
            .iter()
            .map(|l| format!("{}={}", l.name, l.value))
            .collect();
        assert_eq!(got, expected);
    }
}
