//! Login roles of built throwaway clusters and their authentication rules.

use std::fmt;

use crate::hba::{ConnectionType, HbaRule};
use pg_string::{quote_ident, quote_literal_portable};

/// How a role authenticates, as written in `pg_hba.conf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// No password asked.
    Trust,
    /// A clear-text password.
    Password,
    /// MD5 challenge; the role's password is stored as an MD5 hash.
    Md5,
    /// SCRAM-SHA-256; the role's password is stored as a SCRAM verifier.
    ScramSha256,
    /// Always refused.
    Reject,
}

impl AuthMethod {
    /// The method's keyword in `pg_hba.conf`.
    pub fn keyword(self) -> &'static str {
        match self {
            AuthMethod::Trust => "trust",
            AuthMethod::Password => "password",
            AuthMethod::Md5 => "md5",
            AuthMethod::ScramSha256 => "scram-sha-256",
            AuthMethod::Reject => "reject",
        }
    }

    /// The `password_encryption` the role's password is stored with.
    fn password_encryption(self) -> &'static str {
        if self == AuthMethod::Md5 {
            "md5"
        } else {
            "scram-sha-256"
        }
    }
}

/// Whether a role's TCP connections must, or must not, use TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TlsRequirement {
    /// TLS or not, and unix sockets (`host` and `local` rules).
    #[default]
    Any,
    /// TLS only (`hostssl`); plain TCP and unix sockets are rejected.
    Required,
    /// Plain TCP and unix sockets only (`hostnossl`); TLS is rejected.
    Forbidden,
}

/// A login role of a built throwaway cluster, with its authentication rules.
#[derive(Clone)]
pub struct Role {
    name: String,
    password: Option<String>,
    auth: AuthMethod,
    tls: TlsRequirement,
    superuser: bool,
}

impl fmt::Debug for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Role")
            .field("name", &self.name)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("auth", &self.auth)
            .field("tls", &self.tls)
            .field("superuser", &self.superuser)
            .finish()
    }
}

impl Role {
    /// A role without password, authenticated by `trust`, TLS optional.
    pub fn new(name: impl Into<String>) -> Self {
        Role {
            name: name.into(),
            password: None,
            auth: AuthMethod::Trust,
            tls: TlsRequirement::Any,
            superuser: false,
        }
    }

    /// The role's password, stored hashed as its authentication method needs.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    /// The authentication method.
    pub fn auth(mut self, method: AuthMethod) -> Self {
        self.auth = method;
        self
    }

    /// The TLS requirement.
    pub fn tls(mut self, tls: TlsRequirement) -> Self {
        self.tls = tls;
        self
    }

    /// Makes the role a superuser.
    pub fn superuser(mut self, superuser: bool) -> Self {
        self.superuser = superuser;
        self
    }

    /// The `pg_hba.conf` rules for the role, for 127.0.0.1, ::1 and the unix socket.
    pub fn hba_rules(&self) -> Vec<HbaRule> {
        let method = self.auth.keyword();
        let reject = AuthMethod::Reject.keyword();
        let (local, allowed, refused) = match self.tls {
            TlsRequirement::Any => (method, ConnectionType::Host, None),
            TlsRequirement::Required => (
                reject,
                ConnectionType::HostSsl,
                Some(ConnectionType::HostNoSsl),
            ),
            TlsRequirement::Forbidden => (
                method,
                ConnectionType::HostNoSsl,
                Some(ConnectionType::HostSsl),
            ),
        };
        let mut rules = vec![HbaRule::local("all", &self.name, local)];
        for address in ["127.0.0.1/32", "::1/128"] {
            rules.push(HbaRule::host(allowed, "all", &self.name, address, method));
            if let Some(refused) = refused {
                rules.push(HbaRule::host(refused, "all", &self.name, address, reject));
            }
        }
        rules
    }

    pub(crate) fn create_sql(&self) -> String {
        let name = quote_ident(&self.name);
        let mut sql = format!(
            "SET password_encryption = {};\nCREATE ROLE {name} LOGIN{}",
            quote_literal_portable(self.auth.password_encryption()),
            if self.superuser { " SUPERUSER" } else { "" }
        );
        if let Some(password) = &self.password {
            sql.push_str(&format!(" PASSWORD {}", quote_literal_portable(password)));
        }
        sql.push_str(&format!(";\nGRANT ALL ON SCHEMA public TO {name};\n"));
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_rules_follow_the_tls_requirement() {
        let rules: Vec<String> = Role::new("alice")
            .auth(AuthMethod::ScramSha256)
            .tls(TlsRequirement::Required)
            .hba_rules()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            rules,
            [
                "local\tall\talice\treject",
                "hostssl\tall\talice\t127.0.0.1/32\tscram-sha-256",
                "hostnossl\tall\talice\t127.0.0.1/32\treject",
                "hostssl\tall\talice\t::1/128\tscram-sha-256",
                "hostnossl\tall\talice\t::1/128\treject",
            ]
        );
        let any = Role::new("bob").auth(AuthMethod::Md5).hba_rules();
        assert_eq!(any.len(), 3);
        assert_eq!(any[1].connection, ConnectionType::Host);
    }

    #[test]
    fn role_sql_quotes_and_hides_the_password() {
        let role = Role::new("o\"k").password("it's").auth(AuthMethod::Md5);
        let sql = role.create_sql();
        assert!(sql.starts_with("SET password_encryption = 'md5';"), "{sql}");
        assert!(
            sql.contains("CREATE ROLE \"o\"\"k\" LOGIN PASSWORD 'it''s';"),
            "{sql}"
        );
        assert!(!format!("{role:?}").contains("it's"));

        // A backslash means the same whatever standard_conforming_strings says.
        let sql = Role::new("r").password(r"a\'b").create_sql();
        assert!(
            sql.contains(r#"CREATE ROLE "r" LOGIN PASSWORD E'a\\''b';"#),
            "{sql}"
        );
    }
}
