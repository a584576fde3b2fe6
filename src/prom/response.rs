//! The shapes of Prometheus query results, decoded into plain labels and f64 values.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One point: unix seconds and value (NaN and ±Inf as Prometheus reports them).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    pub t: f64,
    #[serde(with = "special_float")]
    pub v: f64,
}

/// JSON has no NaN or infinities: they are written as the strings Prometheus itself uses
/// (`"NaN"`, `"+Inf"`, `"-Inf"`) so a record survives a round trip (report.json, the results
/// file nextest processes share, baselines). `null` reads back as NaN.
mod special_float {
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_str(if v.is_nan() {
                "NaN"
            } else if *v > 0.0 {
                "+Inf"
            } else {
                "-Inf"
            })
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        d.deserialize_any(FloatVisitor)
    }

    struct FloatVisitor;

    impl Visitor<'_> for FloatVisitor {
        type Value = f64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a number, \"NaN\", \"+Inf\" or \"-Inf\"")
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
            Ok(f64::NAN)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            Ok(super::parse_value(v))
        }
    }
}

/// One series of a result: its labels and its points (one point for instant queries).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub samples: Vec<Sample>,
}

impl Series {
    /// `{a="1", b="2"}`, or `{}` for a series without labels.
    pub fn label_string(&self) -> String {
        let inner = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("{{{inner}}}")
    }
}

/// One metric family's metadata as `/api/v1/metadata` reports it (`type` is `counter`,
/// `gauge`, `histogram`, `gaugehistogram`, `summary`, `info`, `stateset` or `unknown`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FamilyMetadata {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub unit: String,
}

/// A decoded result: every result type becomes a list of series.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub result_type: String,
    pub series: Vec<Series>,
}

/// The API's answer around any `data` shape (query results, label values, series).
#[derive(Deserialize)]
pub(crate) struct Envelope<D = Data> {
    pub status: String,
    pub data: Option<D>,
    #[serde(rename = "errorType")]
    pub error_type: Option<String>,
    pub error: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct Data {
    #[serde(rename = "resultType")]
    pub result_type: String,
    pub result: serde_json::Value,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: Option<(f64, String)>,
    values: Option<Vec<(f64, String)>>,
}

/// Prometheus encodes sample values as strings: "1.5", "NaN", "+Inf", "-Inf".
fn parse_value(s: &str) -> f64 {
    match s {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().unwrap_or(f64::NAN),
    }
}

impl Data {
    pub(crate) fn decode(self) -> Result<Value, String> {
        let series = match self.result_type.as_str() {
            "scalar" | "string" => {
                let (t, v): (f64, String) =
                    serde_json::from_value(self.result).map_err(|e| e.to_string())?;
                vec![Series {
                    labels: BTreeMap::new(),
                    samples: vec![Sample {
                        t,
                        v: parse_value(&v),
                    }],
                }]
            }
            "vector" | "matrix" => {
                let raw: Vec<RawSeries> =
                    serde_json::from_value(self.result).map_err(|e| e.to_string())?;
                raw.into_iter()
                    .map(|r| Series {
                        labels: r.metric,
                        samples: r
                            .value
                            .into_iter()
                            .chain(r.values.into_iter().flatten())
                            .map(|(t, v)| Sample {
                                t,
                                v: parse_value(&v),
                            })
                            .collect(),
                    })
                    .collect()
            }
            other => return Err(format!("unknown result type `{other}`")),
        };
        Ok(Value {
            result_type: self.result_type,
            series,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(json: &str) -> Value {
        let env: Envelope = serde_json::from_str(json).unwrap();
        env.data.unwrap().decode().unwrap()
    }

    #[test]
    fn decodes_vectors_with_special_values() {
        let v = decode(
            r#"{"status":"success","data":{"resultType":"vector","result":[
                {"metric":{"endpoint":"/a"},"value":[10.5,"NaN"]},
                {"metric":{"endpoint":"/b"},"value":[10.5,"+Inf"]},
                {"metric":{},"value":[10.5,"0.25"]}]}}"#,
        );
        assert_eq!(v.series.len(), 3);
        assert!(v.series[0].samples[0].v.is_nan());
        assert_eq!(v.series[1].samples[0].v, f64::INFINITY);
        assert_eq!(v.series[2].samples[0], Sample { t: 10.5, v: 0.25 });
        assert_eq!(v.series[0].label_string(), r#"{endpoint="/a"}"#);
    }

    #[test]
    fn special_values_survive_a_json_round_trip() {
        let samples = [
            Sample {
                t: 1.0,
                v: f64::NAN,
            },
            Sample {
                t: 2.0,
                v: f64::INFINITY,
            },
            Sample {
                t: 3.0,
                v: f64::NEG_INFINITY,
            },
            Sample { t: 4.0, v: 0.25 },
        ];
        let json = serde_json::to_string(&samples).unwrap();
        assert!(
            json.contains(r#""v":"NaN""#) && json.contains(r#""v":"+Inf""#),
            "{json}"
        );
        let back: Vec<Sample> = serde_json::from_str(&json).unwrap();
        assert!(back[0].v.is_nan());
        assert_eq!(&back[1..], &samples[1..]);
        let legacy: Sample = serde_json::from_str(r#"{"t":5,"v":null}"#).unwrap();
        assert!(legacy.v.is_nan());
    }

    #[test]
    fn decodes_scalars_and_matrices() {
        let s = decode(r#"{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#);
        assert_eq!(s.series[0].samples, vec![Sample { t: 1.0, v: 2.0 }]);
        let m = decode(
            r#"{"status":"success","data":{"resultType":"matrix","result":[
                {"metric":{"a":"b"},"values":[[1,"1"],[2,"-Inf"]]}]}}"#,
        );
        assert_eq!(m.series[0].samples.len(), 2);
        assert_eq!(m.series[0].samples[1].v, f64::NEG_INFINITY);
    }
}
