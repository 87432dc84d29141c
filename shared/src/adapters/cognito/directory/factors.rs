//! [`Factors`] on Cognito.

use super::*;
use crate::domain::directory::Factors;

impl Factors for CognitoDirectory {
    async fn mfa_mode(&self, tenant: &Tenant) -> Result<MfaMode, DirectoryError> {
        Ok(self.pool_facts(tenant).await?.mfa)
    }

    async fn start_totp(
        &self,
        tenant: &Tenant,
        access_token: &str,
    ) -> Result<String, DirectoryError> {
        let out = self
            .client_for(tenant)
            .associate_software_token()
            .access_token(access_token)
            .send()
            .await
            .map_err(classify)?;
        out.secret_code()
            .map(str::to_string)
            .ok_or_else(|| DirectoryError::Internal("Cognito returned no TOTP secret".into()))
    }

    async fn confirm_totp(
        &self,
        tenant: &Tenant,
        access_token: &str,
        code: &str,
        friendly_name: Option<&str>,
    ) -> Result<(), DirectoryError> {
        let out = self
            .client_for(tenant)
            .verify_software_token()
            .access_token(access_token)
            .user_code(code)
            .set_friendly_device_name(friendly_name.map(str::to_string))
            .send()
            .await
            .map_err(classify)?;
        match out.status() {
            Some(VerifySoftwareTokenResponseType::Success) => Ok(()),
            // Cognito answers a wrong code with an exception; a status of ERROR reads the same
            _ => Err(DirectoryError::CodeMismatch),
        }
    }

    async fn set_factor(
        &self,
        tenant: &Tenant,
        user: &UserId,
        factor: Factor,
        enabled: bool,
        preferred: bool,
    ) -> Result<(), DirectoryError> {
        let request = self
            .client_for(tenant)
            .admin_set_user_mfa_preference()
            .user_pool_id(&tenant.user_pool_id)
            .username(user.as_str());
        let request = match factor {
            Factor::Totp => request.software_token_mfa_settings(
                SoftwareTokenMfaSettingsType::builder()
                    .enabled(enabled)
                    .preferred_mfa(preferred)
                    .build(),
            ),
            Factor::Sms => request.sms_mfa_settings(
                SmsMfaSettingsType::builder()
                    .enabled(enabled)
                    .preferred_mfa(preferred)
                    .build(),
            ),
            Factor::Email => request.email_mfa_settings(
                EmailMfaSettingsType::builder()
                    .enabled(enabled)
                    .preferred_mfa(preferred)
                    .build(),
            ),
        };
        request.send().await.map_err(classify)?;
        Ok(())
    }
}
