//! CSV rosters: a header row with `email`, optional `role`, `org`, `expires`, and one
//! `attributes.<key>` column per attribute; empty cells mean "not set". Rows are cited
//! by line, the header being line 1.

use std::sync::Arc;

/// One roster row, with its raw cells; typing happens where attributes are known.
#[derive(Debug, Clone)]
pub struct CsvRow {
    pub line: u32,
    /// The roster's column names, shared by every row.
    pub header: Arc<[String]>,
    /// The column (1-based character) where each cell starts.
    pub columns: Box<[u32]>,
    pub email: (String, u32),
    pub role: Option<(String, u32)>,
    pub org: Option<(String, u32)>,
    pub expires: Option<(String, u32)>,
    /// (attribute key, raw text, column)
    pub attributes: Vec<(String, String, u32)>,
}

/// A problem at a line and column of a CSV file.
#[derive(Debug, Clone)]
pub struct CsvProblem {
    pub line: u32,
    pub column: u32,
    pub message: String,
    pub hint: Option<String>,
}

enum Column {
    Email,
    Role,
    Org,
    Expires,
    Attribute(String),
}

const KNOWN: &[&str] = &["email", "role", "org", "expires"];

/// A roster's rows that could be read, and the problems of those that could not.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<CsvRow>,
    pub problems: Vec<CsvProblem>,
}

/// Parses a roster. A problem with the header stops the parse (no row can be read
/// without it); a bad row is reported and the others are still returned, so one ragged
/// row does not hide the problems of every other member of the roster.
pub fn parse(text: &str) -> Parsed {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => {
            return Parsed {
                rows: Vec::new(),
                problems: vec![problem_from(&error, 1)],
            };
        }
    };
    let mut columns = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, name) in headers.iter().enumerate() {
        let column = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if !seen.insert(name.to_string()) {
            problems.push(CsvProblem {
                line: 1,
                column,
                message: format!("column `{name}` appears twice"),
                hint: None,
            });
        }
        columns.push(match name {
            "email" => Column::Email,
            "role" => Column::Role,
            "org" => Column::Org,
            "expires" => Column::Expires,
            other => match other.strip_prefix("attributes.") {
                Some(key) if !key.is_empty() => Column::Attribute(key.to_string()),
                _ => {
                    problems.push(CsvProblem {
                        line: 1,
                        column,
                        message: format!("unknown column `{other}`"),
                        hint: crate::model::suggest::did_you_mean(other, KNOWN.iter().copied()).or_else(
                            || Some("columns are email, role, org, expires and attributes.<key>".into()),
                        ),
                    });
                    Column::Attribute(String::new())
                }
            },
        });
    }
    if !columns.iter().any(|c| matches!(c, Column::Email)) {
        problems.push(CsvProblem {
            line: 1,
            column: 1,
            message: "the header has no `email` column".into(),
            hint: None,
        });
    }
    if !problems.is_empty() {
        return Parsed {
            rows: Vec::new(),
            problems,
        };
    }
    let header: Arc<[String]> = headers.iter().map(str::to_string).collect::<Vec<_>>().into();
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                problems.push(problem_from(&error, 0));
                // A malformed row (wrong field count) does not stop the other rows.
                if matches!(error.kind(), csv::ErrorKind::UnequalLengths { .. }) {
                    continue;
                }
                break;
            }
        }
        let line = record
            .position()
            .map_or(0, |p| u32::try_from(p.line()).unwrap_or(u32::MAX));
        // A record's ranges skip the delimiters: add one per earlier field.
        let cell_columns: Box<[u32]> = (0..record.len())
            .map(|index| {
                record
                    .range(index)
                    .map_or(1, |range| u32::try_from(range.start + index + 1).unwrap_or(1))
            })
            .collect();
        let mut row = CsvRow {
            line,
            header: Arc::clone(&header),
            columns: cell_columns.clone(),
            email: (String::new(), 1),
            role: None,
            org: None,
            expires: None,
            attributes: Vec::new(),
        };
        for (index, (cell, column)) in record.iter().zip(&columns).enumerate() {
            if cell.is_empty() {
                continue;
            }
            let at = cell_columns[index];
            let value = (cell.to_string(), at);
            match column {
                Column::Email => row.email = value,
                Column::Role => row.role = Some(value),
                Column::Org => row.org = Some(value),
                Column::Expires => row.expires = Some(value),
                Column::Attribute(key) => row.attributes.push((key.clone(), value.0, value.1)),
            }
        }
        if row.email.0.is_empty() {
            problems.push(CsvProblem {
                line,
                column: 1,
                message: "the row has no email".into(),
                hint: None,
            });
            continue;
        }
        rows.push(row);
    }
    Parsed { rows, problems }
}

fn problem_from(error: &csv::Error, default_line: u32) -> CsvProblem {
    let line = error
        .position()
        .map_or(default_line, |p| u32::try_from(p.line()).unwrap_or(u32::MAX));
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("the row has {len} cells but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_string(),
        _ => format!("unreadable CSV: {error}"),
    };
    CsvProblem {
        line,
        column: 1,
        message,
        hint: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_with_lines_and_columns() {
        let Parsed { rows, problems } =
            parse("email,role,attributes.region\nalice@globex.com,viewer,emea\nbob@globex.com,,\n");
        assert!(problems.is_empty());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].role.as_ref().unwrap().0, "viewer");
        assert_eq!(
            rows[0].attributes,
            vec![("region".to_string(), "emea".to_string(), 25)]
        );
        assert_eq!(rows[1].line, 3);
        assert!(rows[1].role.is_none() && rows[1].attributes.is_empty());
    }

    #[test]
    fn rejects_unknown_columns_and_ragged_rows() {
        let parsed = parse("email,rol\na@x.com,viewer\n");
        assert!(parsed.rows.is_empty());
        assert_eq!(parsed.problems[0].message, "unknown column `rol`");
        assert_eq!(parsed.problems[0].hint.as_deref(), Some("did you mean `role`?"));
        // A ragged row is reported and the rows around it are still read.
        let parsed = parse("email,role\nz@x.com,viewer\na@x.com,viewer,extra\nb@x.com,viewer\n");
        assert_eq!(parsed.problems.len(), 1);
        assert_eq!(parsed.problems[0].line, 3);
        assert!(parsed.problems[0].message.contains("3 cells"));
        let emails: Vec<_> = parsed.rows.iter().map(|row| row.email.0.as_str()).collect();
        assert_eq!(emails, ["z@x.com", "b@x.com"]);
        let parsed = parse("role\nviewer\n");
        assert!(parsed.rows.is_empty() && !parsed.problems.is_empty());
    }
}
