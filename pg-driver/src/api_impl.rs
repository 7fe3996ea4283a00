//! The pg-api contracts, implemented by the driver's connector and connection.

use pg_exceptions::{Error, Message};

use crate::{Connection, Connector, TransactionStatus, VersionInfo};

impl pg_api::Connector for Connector {
    type Connection = Connection;

    async fn connect(&self) -> Result<Connection, Error> {
        Connector::connect(self).await
    }

    fn iri(&self) -> String {
        Connector::iri(self)
    }
}

impl pg_api::Database for Connection {
    async fn execute(&self, sql: &str) -> Result<(), Error> {
        Connection::execute(self, sql).await
    }

    async fn do_(&self, language: &str, source: &str) -> Result<(), Error> {
        Connection::do_(self, language, source).await
    }

    async fn reset(&self) -> Result<(), Error> {
        Connection::reset(self).await
    }

    async fn interrupt(&self) -> Result<(), Error> {
        Connection::interrupt(self).await
    }

    fn backend_id(&self) -> Option<i32> {
        Connection::backend_id(self)
    }

    fn version(&self) -> String {
        Connection::version(self)
    }

    fn version_info(&self) -> Result<VersionInfo, Error> {
        Connection::version_info(self)
    }

    fn parameter_status(&self, name: &str) -> Option<String> {
        Connection::parameter_status(self, name)
    }

    fn transaction_status(&self) -> TransactionStatus {
        Connection::transaction_status(self)
    }

    fn notices(&self) -> Vec<Message> {
        Connection::notices(self)
    }
}

impl pg_api::Connection for Connection {
    type Connector = Connector;

    fn connector(&self) -> &Connector {
        Connection::connector(self)
    }

    async fn connect(&self) -> Result<(), Error> {
        Connection::connect(self).await
    }

    async fn clone_connection(&self) -> Result<Connection, Error> {
        Connection::clone_connection(self).await
    }

    fn close(&self) {
        Connection::close(self)
    }

    fn closed(&self) -> bool {
        Connection::closed(self)
    }
}
