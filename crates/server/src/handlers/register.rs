//! `POST /v1/portals/{technical_name}/self-register`: a partner adds themself to a portal
//! whose self-registration is enabled, from an allowed domain, with the default role.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::revision_response;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::wire::SelfRegisterRequest;
use crate::{App, Caller, today};
use portalctl_core::model::{
    Change, MemberSource, Membership, ResourceKey, ResourceValue, email_domain, normalize_email,
};
use portalctl_store::ChangeMeta;

fn within(domain: &str, allowed: &str) -> bool {
    domain == allowed
        || domain
            .strip_suffix(allowed)
            .is_some_and(|rest| rest.ends_with('.'))
}

pub async fn register(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    ApiPath(portal): ApiPath<String>,
    ApiJson(request): ApiJson<SelfRegisterRequest>,
) -> Result<Response, ApiError> {
    let revision = app
        .blocking(move |app| {
            let snapshot = app.snapshot()?;
            let state = &snapshot.state;
            let Some(found) = state.portals.get(&portal) else {
                return Err(ApiError::not_found(format!("no portal `{portal}`")));
            };
            let Some(registration) = found.self_registration.as_ref().filter(|r| r.enabled) else {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "self_registration_disabled",
                    format!("portal `{portal}` does not allow self-registration"),
                ));
            };
            let email = normalize_email(&request.email);
            let domain = email_domain(&email).unwrap_or_default().to_string();
            if !registration
                .allowed_domains
                .iter()
                .any(|allowed| within(&domain, allowed))
            {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "domain_not_allowed",
                    format!("`{domain}` may not self-register in portal `{portal}`"),
                )
                .with_field("email"));
            }
            if state.members.contains_key(&(portal.clone(), email.clone())) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "already_member",
                    format!("`{email}` is already a member of portal `{portal}`"),
                ));
            }
            // One email is one partner: keep the org it has elsewhere, else the org that
            // claims its domain.
            let org = state
                .memberships_of(&email)
                .find_map(|(_, membership)| membership.org.clone())
                .or_else(|| {
                    state
                        .partner_orgs
                        .iter()
                        .find(|(_, org)| org.domains.iter().any(|allowed| within(&domain, allowed)))
                        .map(|(name, _)| name.clone())
                });
            let change = Change::Put {
                key: ResourceKey::Member {
                    portal: portal.clone(),
                    email: email.clone(),
                },
                value: ResourceValue::Member(Membership {
                    role: registration.default_role.clone(),
                    org,
                    attributes: request.attributes,
                    expires: None,
                    source: MemberSource::SelfRegistration,
                }),
            };
            let meta = ChangeMeta {
                author: Some(email),
                ..ChangeMeta::default()
            };
            app.store
                .commit(None, &[change], &meta, &caller.name, today())
                .map_err(|error| ApiError::from_commit(error, StatusCode::CONFLICT))
        })
        .await?;
    Ok(revision_response(StatusCode::CREATED, revision))
}
