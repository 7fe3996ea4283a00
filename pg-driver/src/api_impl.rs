//! The pg-api contracts, implemented by the driver's async objects (the blocking facade's
//! are in `blocking/api_impl.rs`).

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
    type Statement = crate::Statement;
    type Cursor = crate::Cursor;
    type Transaction = crate::Transaction;
    type Settings = crate::Settings;
    type StoredProcedure = crate::StoredProcedure;
    type Notifications = crate::NotificationStream;

    async fn prepare(&self, sql: &str) -> Result<crate::Statement, Error> {
        Connection::prepare(self, sql).await
    }

    async fn statement_from_id(&self, name: &str) -> Result<crate::Statement, Error> {
        Connection::statement_from_id(self, name).await
    }

    async fn cursor_from_id(&self, name: &str) -> Result<crate::Cursor, Error> {
        Connection::cursor_from_id(self, name).await
    }

    async fn proc(&self, id: &str) -> Result<crate::StoredProcedure, Error> {
        Connection::proc(self, id).await
    }

    fn xact(&self, isolation: Option<&str>, mode: Option<&str>) -> crate::Transaction {
        Connection::xact_with(self, isolation, mode)
    }

    fn settings(&self) -> crate::Settings {
        Connection::settings(self)
    }

    async fn listen(&self, channels: &[&str]) -> Result<(), Error> {
        Connection::listen(self, channels).await
    }

    async fn unlisten(&self, channels: &[&str]) -> Result<(), Error> {
        Connection::unlisten(self, channels).await
    }

    async fn notify(&self, notifications: &[(&str, &str)]) -> Result<(), Error> {
        Connection::notify(self, notifications.iter().copied()).await
    }

    fn iternotifies(
        &self,
        timeout: Option<std::time::Duration>,
    ) -> Result<crate::NotificationStream, Error> {
        Ok(Connection::iternotifies(self, timeout))
    }

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

    async fn version(&self) -> Result<String, Error> {
        Connection::version(self).await
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

impl pg_api::Statement for crate::Statement {
    type Cursor = crate::Cursor;

    fn statement_id(&self) -> &str {
        crate::Statement::statement_id(self)
    }

    fn string(&self) -> &str {
        crate::Statement::string(self)
    }

    fn column_names(&self) -> Vec<String> {
        crate::Statement::column_names(self)
    }

    fn column_types(&self) -> Vec<postgres_types::Type> {
        crate::Statement::column_types(self)
    }

    fn pg_column_types(&self) -> Vec<u32> {
        crate::Statement::pg_column_types(self)
    }

    fn sql_column_types(&self) -> Vec<String> {
        crate::Statement::sql_column_types(self)
    }

    fn parameter_types(&self) -> Vec<postgres_types::Type> {
        crate::Statement::parameter_types(self)
    }

    fn pg_parameter_types(&self) -> Vec<u32> {
        crate::Statement::pg_parameter_types(self)
    }

    fn sql_parameter_types(&self) -> Vec<String> {
        crate::Statement::sql_parameter_types(self)
    }

    async fn rows_of<P: pg_api::Params + Send>(
        &self,
        params: P,
    ) -> Result<Vec<pg_types::Row>, Error> {
        Ok(self.call(params).await?.rows)
    }

    async fn load_rows<I>(&self, rows: I) -> Result<u64, Error>
    where
        I: IntoIterator + Send,
        I::IntoIter: Send,
        I::Item: pg_api::Params + Send,
    {
        crate::Statement::load_rows(self, rows).await
    }

    async fn declare<P: pg_api::Params + Send>(&self, params: P) -> Result<crate::Cursor, Error> {
        crate::Statement::declare(self, params).await
    }

    async fn close(&self) -> Result<(), Error> {
        crate::Statement::close(self).await
    }
}

impl pg_api::Cursor for crate::Cursor {
    fn cursor_id(&self) -> &str {
        crate::Cursor::cursor_id(self)
    }

    fn column_names(&self) -> Vec<String> {
        crate::Cursor::column_names(self)
    }

    fn direction(&self) -> pg_api::Direction {
        crate::Cursor::direction(self)
    }

    fn set_direction(&self, direction: pg_api::Direction) {
        crate::Cursor::set_direction(self, direction)
    }

    async fn read(
        &self,
        quantity: Option<u64>,
        direction: Option<pg_api::Direction>,
    ) -> Result<Vec<pg_types::Row>, Error> {
        crate::Cursor::read(self, quantity, direction).await
    }

    async fn seek(&self, offset: i64, whence: pg_api::Whence) -> Result<u64, Error> {
        crate::Cursor::seek(self, offset, whence).await
    }

    async fn close(&self) -> Result<(), Error> {
        crate::Cursor::close(self).await
    }
}

impl pg_api::Transaction for crate::Transaction {
    async fn start(&self) -> Result<(), Error> {
        crate::Transaction::start(self).await
    }

    async fn commit(&self) -> Result<(), Error> {
        crate::Transaction::commit(self).await
    }

    async fn rollback(&self) -> Result<(), Error> {
        crate::Transaction::rollback(self).await
    }

    fn isolation_level(&self) -> Option<String> {
        crate::Transaction::isolation_level(self)
    }

    fn is_savepoint(&self) -> Option<bool> {
        crate::Transaction::is_savepoint(self)
    }
}

impl pg_api::Settings for crate::Settings {
    async fn get(&self, name: &str) -> Result<Option<String>, Error> {
        crate::Settings::get(self, name).await
    }

    async fn set(&self, name: &str, value: &str) -> Result<(), Error> {
        crate::Settings::set(self, name, value).await
    }

    async fn reset(&self, name: &str) -> Result<(), Error> {
        crate::Settings::reset(self, name).await
    }

    async fn keys(&self) -> Result<Vec<String>, Error> {
        crate::Settings::keys(self).await
    }

    async fn contains(&self, name: &str) -> Result<bool, Error> {
        crate::Settings::contains(self, name).await
    }

    fn reported(&self, name: &str) -> Option<String> {
        crate::Settings::reported(self, name)
    }
}

impl pg_api::StoredProcedure for crate::StoredProcedure {
    type Output = crate::ProcResult;

    fn procedure_id(&self) -> &str {
        crate::StoredProcedure::procedure_id(self)
    }

    fn input_types(&self) -> Vec<postgres_types::Type> {
        crate::StoredProcedure::input_types(self)
    }

    fn srf(&self) -> bool {
        crate::StoredProcedure::srf(self)
    }

    fn composite(&self) -> bool {
        crate::StoredProcedure::composite(self)
    }

    async fn call<P: pg_api::Params + Send>(&self, params: P) -> Result<crate::ProcResult, Error> {
        crate::StoredProcedure::call(self, params).await
    }

    async fn call_named<P: pg_api::Params + Send>(
        &self,
        positional: P,
        named: &[(&str, &(dyn postgres_types::ToSql + Sync))],
    ) -> Result<crate::ProcResult, Error> {
        crate::StoredProcedure::call_named(self, positional, named).await
    }
}

impl pg_api::Notifications for crate::NotificationStream {
    async fn next_event(&mut self) -> Option<pg_api::NotifyEvent> {
        futures::StreamExt::next(self).await
    }
}
