//! [`Source`]: a results file, or a server queried over HTTP.

use std::path::PathBuf;

use rolecall_actors::metrics::{file, Field, Point};
use serde_json::Value;

/// Where a report's points come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A results file: `.csv` is CSV, anything else line protocol.
    File(PathBuf),
    /// InfluxDB 1.x: an InfluxQL query (e.g. `SELECT * FROM "latency"`) on `db`.
    InfluxQl {
        /// Server, `http://host:port`.
        url: String,
        /// Database.
        db: String,
        /// The query; `GROUP BY *` is added so tags come back as tags.
        query: String,
    },
    /// VictoriaMetrics: `/api/v1/export` of a series selector (e.g. `{__name__=~"lat_.*"}`).
    Victoria {
        /// Server, `http://host:port`.
        url: String,
        /// The `match[]` selector.
        selector: String,
    },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(p) => write!(f, "{}", p.display()),
            Source::InfluxQl { url, db, query } => write!(f, "{url} db {db}: {query}"),
            Source::Victoria { url, selector } => write!(f, "{url} export {selector}"),
        }
    }
}

/// Reading the points failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The results file does not read.
    #[error(transparent)]
    File(#[from] file::ReadError),
    /// The server could not be asked.
    #[error("{url}: {message}")]
    Http {
        /// The server.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The server's answer is not what its API documents.
    #[error("{url}: unexpected answer: {message}")]
    Answer {
        /// The server.
        url: String,
        /// What is wrong with it.
        message: String,
    },
}

impl Source {
    /// Reads every point.
    pub fn read(&self) -> Result<Vec<Point>, SourceError> {
        match self {
            Source::File(path) => Ok(file::read(path)?),
            Source::InfluxQl { url, db, query } => {
                let q = if query.to_ascii_uppercase().contains("GROUP BY") {
                    query.clone()
                } else {
                    format!("{query} GROUP BY *")
                };
                let body = fetch(
                    url,
                    "query",
                    &[("db", db.as_str()), ("q", &q), ("epoch", "ns")],
                )?;
                let v: Value = serde_json::from_str(&body).map_err(|e| SourceError::Answer {
                    url: url.clone(),
                    message: e.to_string(),
                })?;
                influxql_points(&v).map_err(|message| SourceError::Answer {
                    url: url.clone(),
                    message,
                })
            }
            Source::Victoria { url, selector } => {
                let body = fetch(url, "api/v1/export", &[("match[]", selector.as_str())])?;
                victoria_points(&body).map_err(|message| SourceError::Answer {
                    url: url.clone(),
                    message,
                })
            }
        }
    }
}

/// POSTs a form to `url/path` and returns the body of a 2xx answer.
fn fetch(url: &str, path: &str, form: &[(&str, &str)]) -> Result<String, SourceError> {
    let http = |message: String| SourceError::Http {
        url: url.to_owned(),
        message,
    };
    let target = format!("{}/{path}", url.trim_end_matches('/'));
    let form: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let system = actix_rt::System::new();
    system.block_on(async move {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| http(e.to_string()))?;
        let response = client
            .post(&target)
            .form(&form)
            .send()
            .await
            .map_err(|e| http(e.to_string()))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| http(e.to_string()))?;
        if !status.is_success() {
            return Err(http(format!("HTTP {status}: {text}")));
        }
        Ok(text)
    })
}

/// Points from an InfluxQL JSON answer (`epoch=ns`, grouped by tags).
pub fn influxql_points(v: &Value) -> Result<Vec<Point>, String> {
    let result = &v["results"][0];
    if let Some(e) = result["error"].as_str().or(v["error"].as_str()) {
        return Err(e.to_owned());
    }
    let mut points = Vec::new();
    for s in result["series"].as_array().into_iter().flatten() {
        let name = s["name"].as_str().ok_or("series without name")?;
        let columns: Vec<&str> = s["columns"]
            .as_array()
            .ok_or("series without columns")?
            .iter()
            .map(|c| c.as_str().unwrap_or(""))
            .collect();
        for row in s["values"].as_array().into_iter().flatten() {
            let row = row.as_array().ok_or("row is not an array")?;
            let time = row
                .first()
                .and_then(Value::as_i64)
                .ok_or("row without integer time (epoch=ns)")?;
            let mut p = Point::new(name, time);
            if let Some(tags) = s["tags"].as_object() {
                for (k, t) in tags {
                    if let Some(t) = t.as_str().filter(|t| !t.is_empty()) {
                        p.tags.insert(k.clone(), t.to_owned());
                    }
                }
            }
            for (c, x) in columns.iter().zip(row).skip(1) {
                let field = match x {
                    Value::Number(n) => match n.as_i64() {
                        Some(i) if !n.is_f64() => Field::Int(i),
                        _ => Field::Float(n.as_f64().unwrap_or(0.0)),
                    },
                    Value::Bool(b) => Field::Bool(*b),
                    Value::String(s) => Field::Str(s.clone()),
                    _ => continue,
                };
                p.fields.insert((*c).to_owned(), field);
            }
            if !p.fields.is_empty() {
                points.push(p);
            }
        }
    }
    Ok(points)
}

/// Points from VictoriaMetrics' export (JSON lines; metric `<measurement>_<field>`,
/// millisecond timestamps). Each series becomes points of measurement
/// `__name__` with one field `value`.
pub fn victoria_points(body: &str) -> Result<Vec<Point>, String> {
    let mut points = Vec::new();
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        let metric = v["metric"].as_object().ok_or("line without metric")?;
        let name = metric
            .get("__name__")
            .and_then(Value::as_str)
            .ok_or("metric without __name__")?;
        let values = v["values"].as_array().ok_or("line without values")?;
        let times = v["timestamps"]
            .as_array()
            .ok_or("line without timestamps")?;
        for (x, t) in values.iter().zip(times) {
            let mut p = Point::new(name, t.as_i64().unwrap_or(0).saturating_mul(1_000_000));
            for (k, tag) in metric.iter().filter(|(k, _)| *k != "__name__") {
                if let Some(tag) = tag.as_str() {
                    p.tags.insert(k.clone(), tag.to_owned());
                }
            }
            p.fields
                .insert("value".into(), Field::Float(x.as_f64().unwrap_or(f64::NAN)));
            points.push(p);
        }
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn influxql_answers_become_points_with_tags_and_typed_fields() {
        let v: Value = serde_json::from_str(
            r#"{"results":[{"statement_id":0,"series":[
                {"name":"latency","tags":{"topic":"a b","empty":""},
                 "columns":["time","us","seq","ok","note"],
                 "values":[[1700000000000000001,12.5,3,true,"x"],[1700000000000000002,null,4,false,"y"]]}]}]}"#,
        )
        .unwrap();
        let points = influxql_points(&v).unwrap();
        assert_eq!(points.len(), 2);
        let p = &points[0];
        assert_eq!(
            (p.measurement.as_str(), p.time_ns),
            ("latency", 1_700_000_000_000_000_001)
        );
        assert_eq!(p.tags.len(), 1, "empty tag values are absent tags");
        assert_eq!(p.tags["topic"], "a b");
        assert_eq!(p.fields["us"], Field::Float(12.5));
        assert_eq!(p.fields["seq"], Field::Int(3));
        assert_eq!(p.fields["ok"], Field::Bool(true));
        assert_eq!(p.fields["note"], Field::Str("x".into()));
        assert!(!points[1].fields.contains_key("us"), "null is no field");
    }

    #[test]
    fn influxql_errors_are_reported() {
        let v: Value = serde_json::from_str(
            r#"{"results":[{"statement_id":0,"error":"database not found: x"}]}"#,
        )
        .unwrap();
        assert_eq!(influxql_points(&v).unwrap_err(), "database not found: x");
    }

    #[test]
    fn victoria_export_lines_become_points_in_nanoseconds() {
        let body = concat!(
            r#"{"metric":{"__name__":"latency_us","topic":"w"},"values":[1.5,2],"timestamps":[1700000000000,1700000000001]}"#,
            "\n",
            r#"{"metric":{"__name__":"latency_seq","topic":"w"},"values":[7],"timestamps":[1700000000000]}"#,
            "\n"
        );
        let points = victoria_points(body).unwrap();
        assert_eq!(points.len(), 3);
        assert_eq!(points[1].measurement, "latency_us");
        assert_eq!(points[1].time_ns, 1_700_000_000_001_000_000);
        assert_eq!(points[1].tags["topic"], "w");
        assert_eq!(points[1].fields["value"], Field::Float(2.0));
        assert!(victoria_points("not json").is_err());
    }
}
