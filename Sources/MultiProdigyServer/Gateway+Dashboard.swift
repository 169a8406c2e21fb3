import Hummingbird
import MultiProdigyCore

extension Gateway {
    /// `/ui`: the dashboard's pages, login and logout (``DashboardHandler``) and the JSON they read
    /// (``DashboardAPI``). The middleware leaves these paths to them: they log in with a session cookie, not a
    /// bearer key.
    static func addDashboard(to router: Router<GatewayRequestContext>, shared: GatewayRuntime.Shared) {
        @Sendable func dashboard(_ context: GatewayRequestContext) throws -> DashboardHandler {
            try context.servingRuntime().dashboard
        }
        @Sendable func api(_ context: GatewayRequestContext) throws -> DashboardAPI {
            DashboardAPI(
                dashboard: try dashboard(context),
                ledger: shared.ledger,
                tracker: shared.tracker,
                health: shared.health,
                metrics: shared.metrics
            )
        }
        router.get("/ui") { request, context in try dashboard(context).app(request) }
        router.get("/ui/login") { request, context in try dashboard(context).loginPage(request) }
        router.post("/ui/login") { request, context in try await dashboard(context).login(request) }
        router.post("/ui/logout") { request, context in try await dashboard(context).logout(request) }
        router.get("/ui/app.js") { _, _ in DashboardHandler.asset(PackageResources.app_js, contentType: "text/javascript; charset=utf-8") }
        router.get("/ui/app.css") { _, _ in DashboardHandler.asset(PackageResources.app_css, contentType: "text/css; charset=utf-8") }

        router.get("/ui/api/overview") { request, context in
            let api = try api(context)
            return try await api.authorized(request, context: context) { _ in try await api.overview(request) }
        }
        router.get("/ui/api/targets") { request, context in
            let api = try api(context)
            return try await api.authorized(request, context: context) { context in
                try await api.targets(runtime: try context.servingRuntime())
            }
        }
        router.get("/ui/api/requests") { request, context in
            let api = try api(context)
            return try await api.authorized(request, context: context) { _ in try await api.requests(request) }
        }
        router.get("/ui/api/routes") { request, context in
            let api = try api(context)
            return try await api.authorized(request, context: context) { context in api.routes(runtime: try context.servingRuntime()) }
        }
        router.post("/ui/api/route") { request, context in
            let api = try api(context)
            return try await api.authorized(request, context: context) { context in
                try await context.servingRuntime().explain.handle(request, context: context)
            }
        }
        router.get("/ui/api/keys") { request, context in
            let api = try api(context)
            return try await api.authorized(request, context: context) { context in
                try await context.servingRuntime().keysAdmin.list(request)
            }
        }
        router.post("/ui/api/keys") { request, context in
            let api = try api(context)
            return try await api.authorized(request, context: context) { context in
                try await context.servingRuntime().keysAdmin.create(request)
            }
        }
        router.delete("/ui/api/keys/:key") { request, context in
            let api = try api(context)
            return try await api.authorized(request, context: context) { context in
                try await context.servingRuntime().keysAdmin.revoke(try context.parameters.require("key"))
            }
        }
    }
}
