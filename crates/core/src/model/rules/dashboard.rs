//! The rules of dashboards: a well-formed path in a declared folder, not a folder too,
//! and nothing inside a dashboard.

use super::{Among, Checker, RuleId, Violation};
use crate::model::{Pointer, dashboard_folder, is_valid_folder_path};

impl Checker<'_> {
    pub(super) fn dashboard(&mut self, path: &str) {
        let at = Pointer::root().join("dashboards").join(path);
        if !is_valid_folder_path(path) {
            self.push(
                Violation::error(
                    RuleId::DashboardPathInvalid,
                    at,
                    format!("`{path}` is not a dashboard path"),
                )
                .with_hint(Some(
                    "dashboard paths name a declared folder and the dashboard, like `/Partners/Finance/Q3 Revenue`"
                        .into(),
                )),
            );
            return;
        }
        match dashboard_folder(path) {
            None => self.push(
                Violation::error(
                    RuleId::DashboardUnknownFolder,
                    at.clone(),
                    format!("dashboard `{path}` is not inside a folder"),
                )
                .with_hint(Some(
                    "a dashboard lies inside a declared folder, like `/Partners/Finance/Q3 Revenue`".into(),
                )),
            ),
            Some(folder) if !self.state.folders.contains_key(folder) => {
                self.push(
                    Violation::error(
                        RuleId::DashboardUnknownFolder,
                        at.clone(),
                        format!("dashboard `{path}` is in folder `{folder}`, which is not declared"),
                    )
                    .suggesting_or(
                        Among::Folders,
                        folder,
                        format!("declare the folder `{folder}` under `folders:`"),
                    ),
                );
            }
            Some(_) => {}
        }
        if self.state.folders.contains_key(path) {
            self.push(
                Violation::error(
                    RuleId::DashboardIsFolder,
                    at.clone(),
                    format!("`{path}` is declared both as a folder and as a dashboard"),
                )
                .with_related(
                    Pointer::root().join("folders").join(path),
                    "declared as a folder here",
                ),
            );
        }
        self.inside_dashboard("dashboard", path, at);
    }

    /// A folder or dashboard at `path` below a declared dashboard: reported at `at`.
    pub(super) fn inside_dashboard(&mut self, what: &str, path: &str, at: Pointer) {
        let Some(dashboard) = crate::model::self_and_ancestors(path)
            .skip(1)
            .find(|ancestor| self.state.dashboards.contains_key(*ancestor))
        else {
            return;
        };
        self.push(
            Violation::error(
                RuleId::InsideDashboard,
                at,
                format!("{what} `{path}` lies inside dashboard `{dashboard}`; a dashboard holds no folders or dashboards"),
            )
            .with_related(Pointer::root().join("dashboards").join(dashboard), "the dashboard"),
        );
    }
}
