extension GatewayDatabase {
    /// The Responses API's stored responses in this database.
    public var responses: ResponseStore { ResponseStore(database: self) }
}
