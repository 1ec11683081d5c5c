//! `POST /v1/portals/{technical_name}/self-register`: a partner adds themself to a portal
//! whose self-registration is enabled, from an allowed domain, with the default role.
//! A registration may set `self_service` attributes only, so a partner cannot pick the
//! values that drive row-level data; their org's values are theirs.
//!
//! When the portal's registration says `approval: required`, the member is stored pending
//! (it grants nothing and joins no group) and the answer is `202`; an admin approves it
//! with `POST /v1/portals/{technical_name}/members/{email}/approve`, which joins the
//! registration's groups as they are then.

use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;

use std::collections::BTreeMap;

use super::{WriteFailure, json_response};
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath};
use crate::wire::{ApproveResponse, SelfRegisterRequest, SelfRegisterResponse};
use crate::{App, Caller, Scope, today};
use portalctl_core::model::{
    AttributeValue, AttributeValues, Change, MemberSource, Membership, ResourceKey, ResourceValue,
    State as Model, admits_domain, email_domain, normalize_email,
};
use portalctl_store::ChangeMeta;

/// Whether `domain` is `allowed` or below it (partner orgs' domains).
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
    let email = normalize_email(&request.email);
    if caller.scope == Scope::Public {
        return verify_first(app, portal, email, request).await;
    }
    let meta = ChangeMeta {
        author: Some(email.clone()),
        ..ChangeMeta::default()
    };
    // Decided inside the store, on the state the member is committed on: of several
    // registrations of one email at once, one is created and the others are told
    // `already_member`.
    let (revision, pending) = app
        .writing(move |app| {
            let mut pending = false;
            let revision = app
                .store
                .commit_with(&meta, &caller.name, today(), |state, _| {
                    let (changes, needs_approval) =
                        registration_change(state, &portal, &email, &request.attributes)?;
                    pending = needs_approval;
                    Ok(changes)
                })
                .map_err(|failure: WriteFailure| failure.into_api(StatusCode::CONFLICT))?;
            Ok((revision, pending))
        })
        .await?;
    let status = if pending {
        StatusCode::ACCEPTED
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(
        status,
        &SelfRegisterResponse {
            revision,
            pending,
            verification_pending: false,
        },
        revision,
    ))
}

/// A public sign-up (no token): the registration is judged now on the published state, so
/// a refusal (domain, attributes, seats) is answered at once, then a verification link is
/// mailed and `202` says so; following the link registers the partner by the same rules,
/// on the state it is committed on. An address that is already a member gets the same
/// `202` and no mail (no enumeration).
async fn verify_first(
    app: App,
    portal: String,
    email: String,
    request: SelfRegisterRequest,
) -> Result<Response, ApiError> {
    if !portalctl_core::model::is_valid_email(&email) {
        return Err(
            ApiError::bad_request("bad_request", "`email` is not an email address").with_field("email"),
        );
    }
    let snapshot = app.snapshot()?;
    let member = snapshot
        .state
        .members
        .contains_key(&(portal.clone(), email.clone()));
    if !member {
        registration_change(&snapshot.state, &portal, &email, &request.attributes)
            .map_err(|failure| failure.into_api(StatusCode::CONFLICT))?;
        let found = snapshot
            .state
            .portals
            .get(&portal)
            .ok_or_else(|| ApiError::not_found(format!("no portal `{portal}`")))?;
        let branding = portalctl_mail::Branding::of(found);
        let payload = serde_json::to_string(&request.attributes)
            .map_err(|_| ApiError::internal("cannot encode the registration"))?;
        app.blocking(move |app| {
            crate::pages::sign_up::send_verification(app, &portal, &branding, &email, payload)?;
            Ok(())
        })
        .await?;
    }
    Ok(json_response(
        StatusCode::ACCEPTED,
        &SelfRegisterResponse {
            revision: snapshot.revision,
            pending: false,
            verification_pending: true,
        },
        snapshot.revision,
    ))
}

/// `POST /v1/portals/{technical_name}/members/{email}/approve`: an admin approves a pending
/// registration. Decided inside the store on the state the approval is committed on: the
/// member stops being pending and joins the portal's registration groups as they are now,
/// in one batch (one audit entry). A member that is not pending is answered as it is and
/// nothing is written, so a retried approval is safe.
pub async fn approve(
    State(app): State<App>,
    Extension(caller): Extension<Caller>,
    ApiPath((portal, email)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let email = normalize_email(&email);
    let (revision, approved, member) = app
        .writing(move |app| {
            let mut outcome = None;
            let revision = app
                .store
                .commit_with(&ChangeMeta::default(), &caller.name, today(), |state, _| {
                    let (changes, member) = approval_changes(state, &portal, &email)?;
                    outcome = Some((!changes.is_empty(), member));
                    Ok(changes)
                })
                .map_err(|failure: WriteFailure| failure.into_api(StatusCode::CONFLICT))?;
            let (approved, member) = outcome
                .ok_or_else(|| ApiError::not_found(format!("no member {email} in portal {portal}")))?;
            Ok((revision, approved, member))
        })
        .await?;
    Ok(json_response(
        StatusCode::OK,
        &ApproveResponse {
            revision,
            approved,
            member,
        },
        revision,
    ))
}

/// The changes that approve `email` in `portal` (none when it is not pending) and the
/// membership after them; `404` when there is no such portal or member.
fn approval_changes(
    state: &Model,
    portal: &str,
    email: &str,
) -> Result<(Vec<Change>, Membership), WriteFailure> {
    state
        .approval(portal, email)
        .map_err(|error| ApiError::not_found(error.to_string()).into())
}

/// The membership a registration adds and whether it awaits approval, or why it may not.
pub(crate) fn registration_change(
    state: &Model,
    portal: &str,
    email: &str,
    attributes: &BTreeMap<String, AttributeValue>,
) -> Result<(Vec<Change>, bool), WriteFailure> {
    let Some(found) = state.portals.get(portal) else {
        return Err(ApiError::not_found(format!("no portal `{portal}`")).into());
    };
    let Some(registration) = found.self_registration.as_ref().filter(|r| r.enabled) else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "self_registration_disabled",
            format!("portal `{portal}` does not allow self-registration"),
        )
        .into());
    };
    let domain = email_domain(email).unwrap_or_default().to_string();
    if !registration
        .allowed_domains
        .iter()
        .any(|allowed| admits_domain(allowed, &domain))
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "domain_not_allowed",
            format!("`{domain}` may not self-register in portal `{portal}`"),
        )
        .with_field("email")
        .into());
    }
    // A pending registration is a member too: registering again is `already_member`.
    if state
        .members
        .contains_key(&(portal.to_string(), email.to_string()))
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_member",
            format!("`{email}` is already a member of portal `{portal}`"),
        )
        .into());
    }
    refuse_escalation(state, attributes)?;
    // One email is one partner: keep the org it has elsewhere, else the org that claims
    // its domain.
    let org = state
        .portals
        .keys()
        .find_map(|other| state.members.get(&(other.clone(), email.to_string())))
        .and_then(|membership| membership.org.clone())
        .or_else(|| {
            state
                .partner_orgs
                .iter()
                .find(|(_, org)| org.domains.iter().any(|allowed| within(&domain, allowed)))
                .map(|(name, _)| name.clone())
        });
    let pending = registration.needs_approval();
    let mut changes = vec![Change::Put {
        key: ResourceKey::Member {
            portal: portal.to_string(),
            email: email.to_string(),
        },
        value: ResourceValue::Member(Membership {
            role: registration.default_role.clone(),
            attributes: with_org_values(state, org.as_deref(), attributes)?,
            org,
            expires: None,
            source: MemberSource::SelfRegistration,
            pending,
        }),
    }];
    // The registration model's groups, so the partner sees the folders shared with them;
    // a pending registration joins them when it is approved.
    if !pending {
        changes.extend(state.join_live(&registration.groups, email));
    }
    Ok((changes, pending))
}

/// `422 attribute_not_self_service` naming the first attribute a partner may not set.
fn refuse_escalation(
    state: &Model,
    attributes: &BTreeMap<String, AttributeValue>,
) -> Result<(), WriteFailure> {
    for name in attributes.keys() {
        if !state
            .attributes
            .get(name)
            .is_some_and(|attribute| attribute.self_service)
        {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "attribute_not_self_service",
                format!("attribute `{name}` cannot be set by self-registration"),
            )
            .with_field(format!("attributes.{name}"))
            .into());
        }
    }
    Ok(())
}

/// The registration's attributes with the org's values added; `422
/// attribute_contradicts_org` when the partner sent a value the org supplies otherwise.
fn with_org_values(
    state: &Model,
    org: Option<&str>,
    attributes: &BTreeMap<String, AttributeValue>,
) -> Result<AttributeValues, WriteFailure> {
    let mut merged = AttributeValues::from(attributes.clone());
    let Some(org) = org.and_then(|org| state.partner_orgs.get(org)) else {
        return Ok(merged);
    };
    for (name, value) in &org.attributes {
        match merged.get(name) {
            Some(sent) if sent != value => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "attribute_contradicts_org",
                    format!("attribute `{name}` is supplied by the partner's org"),
                )
                .with_field(format!("attributes.{name}"))
                .into());
            }
            _ => {
                merged.insert(name.clone(), value.clone());
            }
        }
    }
    Ok(merged)
}
