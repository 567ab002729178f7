//! `/api/me`, `/api/tenant`, `/api/tenant/members`, and the platform admin's `/api/admin/tenants`.
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use serde::{Deserialize, Serialize};

use super::service::{Member, Tenant};
use crate::auth::{Principal, Role};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::guard::AdminCtx;
use crate::http::{Access, ApiJson, RequestCtx, Route};
use crate::ids::TenantId;
use crate::state::AppState;

pub fn routes() -> Vec<Route> {
    use Access::{PlatformAdmin, Tenant as T};
    vec![
        Route::new(Method::GET, "/api/me", T(Role::Member), get(me)),
        Route::new(Method::GET, "/api/tenant", T(Role::Member), get(get_tenant)),
        Route::new(
            Method::PATCH,
            "/api/tenant",
            T(Role::Admin),
            patch(update_tenant),
        ),
        Route::new(
            Method::GET,
            "/api/tenant/members",
            T(Role::Member),
            get(list_members),
        ),
        Route::new(
            Method::POST,
            "/api/tenant/members",
            T(Role::Admin),
            post(add_member),
        ),
        Route::new(
            Method::DELETE,
            "/api/tenant/members/{id}",
            T(Role::Admin),
            delete(remove_member),
        ),
        Route::new(
            Method::GET,
            "/api/admin/tenants",
            PlatformAdmin,
            get(list_tenants),
        ),
        Route::new(
            Method::POST,
            "/api/admin/tenants",
            PlatformAdmin,
            post(create_tenant),
        ),
    ]
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantSummary {
    id: TenantId,
    name: String,
    slug: String,
    role: Role,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    email: Option<String>,
    role: Role,
    platform_admin: bool,
    tenant: Tenant,
    tenants: Vec<TenantSummary>,
}

/// The caller, the workspace this request acts in, and every workspace they can switch to.
#[utoipa::path(get, path = "/api/me", tag = "tenants", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, ctx: RequestCtx) -> ApiResult<ApiJson<Me>> {
    let tenant = state.tenants.get(&ctx.tenant_id).await?;
    let tenants = match &ctx.principal {
        principal if principal.is_platform_admin() => state
            .tenants
            .list_all()
            .await?
            .into_iter()
            .map(|t| TenantSummary {
                id: t.id,
                name: t.name,
                slug: t.slug,
                role: Role::Owner,
            })
            .collect(),
        Principal::User { email, .. } => {
            let mut summaries = Vec::new();
            for membership in state.tenants.memberships(email).await? {
                let t = state.tenants.get(&membership.tenant_id).await?;
                summaries.push(TenantSummary {
                    id: t.id,
                    name: t.name,
                    slug: t.slug,
                    role: membership.role,
                });
            }
            summaries
        }
        Principal::PasswordAdmin => Vec::new(),
    };
    Ok(ApiJson(Me {
        email: ctx.principal.email().map(str::to_owned),
        role: ctx.role,
        platform_admin: ctx.principal.is_platform_admin(),
        tenant,
        tenants,
    }))
}

/// The current workspace.
#[utoipa::path(get, path = "/api/tenant", tag = "tenants", responses((status = 200, body = Tenant)))]
pub async fn get_tenant(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<Tenant>> {
    Ok(ApiJson(state.tenants.get(&ctx.tenant_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    name: Option<String>,
    timezone: Option<String>,
}

/// Rename the workspace or change its reporting time zone (admins).
#[utoipa::path(patch, path = "/api/tenant", tag = "tenants", request_body = UpdateTenant,
    responses((status = 200, body = Tenant), (status = 422, body = ErrorBody)))]
pub async fn update_tenant(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<UpdateTenant>,
) -> ApiResult<ApiJson<Tenant>> {
    Ok(ApiJson(
        state
            .tenants
            .update(
                &ctx.tenant_id,
                body.name.as_deref(),
                body.timezone.as_deref(),
            )
            .await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MemberList {
    members: Vec<Member>,
}

/// Members of the current workspace.
#[utoipa::path(get, path = "/api/tenant/members", tag = "tenants", responses((status = 200, body = MemberList)))]
pub async fn list_members(
    State(state): State<AppState>,
    ctx: RequestCtx,
) -> ApiResult<ApiJson<MemberList>> {
    Ok(ApiJson(MemberList {
        members: state.tenants.members(&ctx.tenant_id).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    email: String,
    role: Role,
}

/// Invite a member by email (admins). Only owners may add owners.
#[utoipa::path(post, path = "/api/tenant/members", tag = "tenants", request_body = NewMember,
    responses((status = 201, body = Member), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_member(
    State(state): State<AppState>,
    ctx: RequestCtx,
    ApiJson(body): ApiJson<NewMember>,
) -> ApiResult<(StatusCode, ApiJson<Member>)> {
    let member = state
        .tenants
        .add_member(&ctx.tenant_id, ctx.role, &body.email, body.role)
        .await?;
    Ok((StatusCode::CREATED, ApiJson(member)))
}

/// Remove a member (admins): only members below the actor's role (owners remove owners); the
/// last owner cannot be removed.
#[utoipa::path(delete, path = "/api/tenant/members/{id}", tag = "tenants",
    params(("id" = String, Path, description = "member id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    ctx: RequestCtx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .tenants
        .remove_member(&ctx.tenant_id, ctx.role, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TenantList {
    tenants: Vec<Tenant>,
}

/// Every workspace on the platform (platform admins).
#[utoipa::path(get, path = "/api/admin/tenants", tag = "admin", responses((status = 200, body = TenantList)))]
pub async fn list_tenants(
    State(state): State<AppState>,
    _admin: AdminCtx,
) -> ApiResult<ApiJson<TenantList>> {
    Ok(ApiJson(TenantList {
        tenants: state.tenants.list_all().await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewTenant {
    name: String,
    slug: String,
    owner_email: Option<String>,
}

/// Create a workspace with its first owner (platform admins).
#[utoipa::path(post, path = "/api/admin/tenants", tag = "admin", request_body = NewTenant,
    responses((status = 201, body = Tenant), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_tenant(
    State(state): State<AppState>,
    _admin: AdminCtx,
    ApiJson(body): ApiJson<NewTenant>,
) -> ApiResult<(StatusCode, ApiJson<Tenant>)> {
    let tenant = state
        .tenants
        .create(&body.name, &body.slug, body.owner_email.as_deref())
        .await?;
    Ok((StatusCode::CREATED, ApiJson(tenant)))
}
