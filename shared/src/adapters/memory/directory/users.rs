//! [`UserAdmin`] in memory.

use super::*;
use crate::domain::directory::UserAdmin;

/// What the in-memory directory's pagination tokens start with.
const PAGE_TOKEN: &str = "memory-page:";

impl UserAdmin for InMemoryDirectory {
    async fn find_user(
        &self,
        _: &Tenant,
        user: &UserId,
    ) -> Result<Option<DirectoryUser>, DirectoryError> {
        self.enter().await?;
        // Cognito also finds a user by `sub`; here every user's sub is `sub-<username>`
        let user = match user.as_str().strip_prefix("sub-").map(UserId::of_cognito) {
            Some(Some(named)) if self.user(&named).is_ok() => named,
            _ => user.clone(),
        };
        let user = &user;
        Ok(self.user(user).ok().map(|u| DirectoryUser {
            username: user.as_str().to_string(),
            sub: Some(format!("sub-{user}")),
            status: u.status.to_string(),
            enabled: u.enabled,
            attributes: u.attributes.clone(),
            factors: u.factors.clone(),
            preferred_factor: u.preferred,
            ..DirectoryUser::default()
        }))
    }

    /// As the Cognito adapter does in a pool without alias attributes: only a name shaped like
    /// a sub (`sub-<username>` here) is looked up.
    async fn canonical_username(
        &self,
        tenant: &Tenant,
        user: &UserId,
    ) -> Result<UserId, DirectoryError> {
        if !user.as_str().starts_with("sub-") {
            return Ok(user.clone());
        }
        canonical_by_lookup(self, tenant, user).await
    }

    async fn create_user(
        &self,
        _: &Tenant,
        new: &NewUser,
    ) -> Result<DirectoryUser, DirectoryError> {
        self.enter().await?;
        let mut users = self
            .users
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?;
        if users.contains_key(new.username.as_str()) {
            return Err(DirectoryError::Conflict("the user already exists"));
        }
        users.insert(
            new.username.as_str().to_string(),
            MemUser {
                status: "FORCE_CHANGE_PASSWORD",
                attributes: new.attributes.iter().cloned().collect(),
                ..MemUser::confirmed(&new.temporary_password.clone().unwrap_or_default())
            },
        );
        Ok(DirectoryUser {
            username: new.username.as_str().to_string(),
            sub: Some(format!("sub-{}", new.username)),
            status: "FORCE_CHANGE_PASSWORD".into(),
            enabled: true,
            attributes: new.attributes.iter().cloned().collect(),
            ..DirectoryUser::default()
        })
    }

    async fn update_attributes(
        &self,
        _: &Tenant,
        user: &UserId,
        attributes: &[(String, String)],
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.update(user, |u| u.attributes.extend(attributes.iter().cloned()))
    }

    async fn set_enabled(
        &self,
        _: &Tenant,
        user: &UserId,
        enabled: bool,
    ) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.update(user, |u| u.enabled = enabled)
    }

    async fn resend_confirmation_code(
        &self,
        _: &Tenant,
        user: &UserId,
    ) -> Result<CodeDelivery, DirectoryError> {
        self.enter().await?;
        self.user(user)?;
        Ok(CodeDelivery {
            destination: Some("d***@e***".into()),
            delivery_medium: Some("EMAIL".into()),
            attribute_name: Some("email".into()),
        })
    }

    async fn resend_invitation(&self, _: &Tenant, user: &UserId) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.user(user).map(|_| ())
    }

    async fn delete_user(&self, _: &Tenant, user: &UserId) -> Result<(), DirectoryError> {
        self.enter().await?;
        self.users
            .lock()
            .ok()
            .and_then(|mut u| u.remove(user.as_str()))
            .map(|_| ())
            .ok_or(DirectoryError::UserNotFound)
    }

    /// Cognito's one-filter syntax as the API writes it (`name = "value"`, `name ^= "value"`;
    /// `username`, `status` or an attribute), as `ListUsers` applies it.
    async fn list_users(
        &self,
        _: &Tenant,
        filter: Option<&str>,
        limit: i32,
        pagination_token: Option<&str>,
    ) -> Result<UserPage, DirectoryError> {
        self.enter().await?;
        let users = self
            .users
            .lock()
            .map_err(|_| DirectoryError::Internal("poisoned".into()))?;
        let wanted = match filter {
            None => None,
            Some(f) => {
                let (name, rest) = f.split_once(' ').ok_or(DirectoryError::InvalidParameter)?;
                let (op, value) = rest
                    .split_once(' ')
                    .ok_or(DirectoryError::InvalidParameter)?;
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .ok_or(DirectoryError::InvalidParameter)?
                    .replace("\\\"", "\"");
                Some((name.to_string(), op == "^=", value))
            }
        };
        let admits = |n: &String, u: &MemUser| {
            let Some((name, prefix, value)) = &wanted else {
                return true;
            };
            let held = match name.as_str() {
                "username" => Some(n.as_str()),
                "status" | "cognito:user_status" => Some(u.status),
                other => u.attributes.get(other).map(String::as_str),
            };
            held.is_some_and(|h| {
                if *prefix {
                    h.starts_with(value.as_str())
                } else {
                    h == value
                }
            })
        };
        let mut names: Vec<&String> = users
            .iter()
            .filter(|(n, u)| admits(n, u))
            .map(|(n, _)| n)
            .collect();
        names.sort();
        // a page ends after the name its token carries, as Cognito's opaque tokens do; a token
        // it did not make is an invalid parameter, as Cognito calls one
        if let Some(token) = pagination_token {
            let after = token
                .strip_prefix(PAGE_TOKEN)
                .ok_or(DirectoryError::InvalidParameter)?;
            names.retain(|n| n.as_str() > after);
        }
        let limit = usize::try_from(limit).unwrap_or(0);
        let next = (names.len() > limit)
            .then(|| names.get(limit.saturating_sub(1)))
            .flatten()
            .map(|last| format!("{PAGE_TOKEN}{last}"));
        Ok(UserPage {
            users: names
                .into_iter()
                .take(limit)
                .map(|n| DirectoryUser {
                    username: n.clone(),
                    status: users[n].status.into(),
                    enabled: users[n].enabled,
                    ..DirectoryUser::default()
                })
                .collect(),
            pagination_token: next,
        })
    }
}
