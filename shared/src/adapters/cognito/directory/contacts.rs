//! [`Contacts`] on Cognito.

use super::*;
use crate::domain::directory::Contacts;

impl Contacts for CognitoDirectory {
    async fn send_contact_code(
        &self,
        tenant: &Tenant,
        access_token: &str,
        contact: Contact,
    ) -> Result<CodeDelivery, DirectoryError> {
        let out = self
            .client_for(tenant)
            .get_user_attribute_verification_code()
            .access_token(access_token)
            .attribute_name(contact.attribute())
            .send()
            .await
            .map_err(classify)?;
        Ok(delivery(out.code_delivery_details()))
    }

    async fn verify_contact(
        &self,
        tenant: &Tenant,
        access_token: &str,
        contact: Contact,
        code: &str,
    ) -> Result<(), DirectoryError> {
        self.client_for(tenant)
            .verify_user_attribute()
            .access_token(access_token)
            .attribute_name(contact.attribute())
            .code(code)
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
