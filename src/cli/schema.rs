//! `portalctl schema`: print the JSON Schema of the config, or with `--output NAME` of one
//! of the JSON documents portalctl writes (all checked in under `schemas/`).

use clap::{Args, ValueEnum};

use portalctl_core::render::json::output_schema_for;

use super::ExitStatus;

/// A JSON document portalctl writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputDocument {
    /// `plan --format json`
    Plan,
    /// The saved plan of `plan --out FILE`
    PlanFile,
    /// `validate --format json`
    Validate,
    /// `drift --format json`
    Drift,
    /// `explain --format json`
    Explain,
    /// `history --format json`
    History,
    /// `report --format json`
    Report,
    /// The evidence `review close` writes (`reviews/NAME.evidence.json`)
    Review,
    /// `outbox --format json`
    Outbox,
    /// `token create|list --format json`
    Token,
}

impl OutputDocument {
    /// The checked-in file, relative to `schemas/`.
    pub fn file_name(self) -> String {
        format!(
            "output/{}.schema.json",
            self.to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default()
        )
    }

    /// The JSON Schema, generated from the types the document is written from.
    pub fn schema(self) -> serde_json::Value {
        let mut schema = match self {
            Self::Plan => portalctl_core::render::json::json_schema(),
            Self::PlanFile => output_schema_for::<portalctl_core::plan::PlanFile>(),
            Self::Validate => {
                output_schema_for::<portalctl_core::config::diagnostic::DiagnosticsReport<'static>>()
            }
            Self::Drift => portalctl_core::render::drift::json_schema(),
            Self::Explain => output_schema_for::<portalctl_core::render::explain::Explanation>(),
            Self::History => output_schema_for::<portalctl_core::render::history::HistoryDocument>(),
            Self::Report => output_schema_for::<portalctl_core::assurance::report::Report>(),
            Self::Review => output_schema_for::<portalctl_core::assurance::review::Evidence>(),
            Self::Outbox => output_schema_for::<super::outbox::OutboxDocument>(),
            Self::Token => output_schema_for::<super::token::TokenDocument<'static>>(),
        };
        if let Some(object) = schema.as_object_mut() {
            let id = format!("https://portalctl.dev/schemas/{}", self.file_name());
            object.insert("$id".into(), serde_json::Value::String(id));
        }
        schema
    }
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Print the schema of this output document instead of the config's
    #[arg(long, value_enum, value_name = "DOCUMENT")]
    output: Option<OutputDocument>,
}

pub fn run(args: SchemaArgs) -> anyhow::Result<ExitStatus> {
    match args.output {
        None => println!("{}", portalctl_core::config::schema_json()),
        Some(document) => println!("{}", serde_json::to_string_pretty(&document.schema())?),
    }
    Ok(ExitStatus::Success)
}
