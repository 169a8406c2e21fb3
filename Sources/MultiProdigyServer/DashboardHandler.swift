import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// `/ui`: the dashboard's pages, login and logout, served from assets compiled into the binary.
///
/// The master key logs in through a form (`POST /ui/login`, guarded by a double-submit token), which opens a
/// session (``DashboardSessions``) held in an `HttpOnly`, `SameSite=Strict` cookie scoped to `/ui`. Every page
/// is sent with a strict Content-Security-Policy (scripts and styles from `/ui` only, no framing). A gateway
/// without a master key has no dashboard: there would be no one to log in as.
struct DashboardHandler: Sendable {
    /// The session cookie.
    static let sessionCookie = "mp_session"
    /// The login form's double-submit cookie.
    static let loginCookie = "mp_login"
    /// The largest login or logout form read.
    static let maximumFormBytes = 16 * 1024
    /// How long a wrong key waits before its answer, to slow guessing.
    static let failedLoginDelay = Duration.milliseconds(500)

    let sessions: DashboardSessions
    let masterKey: [UInt8]?
    /// Failed logins, at `warning`, without what was typed.
    var logger = Logger(label: "multiprodigy.dashboard")

    // MARK: Pages

    /// `GET /ui`: the dashboard for a session, else a redirect to the login page.
    func app(_ request: Request) -> Response {
        guard masterKey != nil else { return Self.noDashboard() }
        guard let session = session(of: request) else { return Self.redirect(to: "/ui/login") }
        let page = Self.text(PackageResources.app_html).replacingOccurrences(of: "{{CSRF}}", with: session.csrfToken)
        return Self.page(page)
    }

    /// `GET /ui/login`: the login form, with a fresh double-submit token in the form and in a cookie.
    func loginPage(_ request: Request) -> Response {
        guard masterKey != nil else { return Self.noDashboard() }
        if session(of: request) != nil { return Self.redirect(to: "/ui/") }
        return loginForm(message: "", status: .ok)
    }

    /// `POST /ui/login`: the master key opens a session; anything else gets the form again with a 401 (403 for a
    /// form that did not come from the login page, 429 past the failed logins' allowance).
    func login(_ request: Request) async throws -> Response {
        guard let masterKey else { return Self.noDashboard() }
        // Guessing is slowed for everyone at once: past the burst, a login is refused before its key is compared.
        guard sessions.admitsLogin() else {
            return loginForm(message: "Too many failed logins; wait a few seconds and try again.", status: .tooManyRequests)
        }
        var request = request
        let form = try await DashboardForm.fields(of: &request)
        let cookie = request.cookies[Self.loginCookie]?.value ?? ""
        guard let token = form["csrf"], !cookie.isEmpty, ConstantTime.equals(Array(token.utf8), Array(cookie.utf8)) else {
            return loginForm(message: "The login form expired; please try again.", status: .forbidden)
        }
        guard let key = form["key"], ConstantTime.equals(Array(key.utf8), masterKey) else {
            sessions.loginFailed()
            logger.warning("a dashboard login was refused: not the master key")
            try? await Task.sleep(for: Self.failedLoginDelay)
            return loginForm(message: "That is not the gateway's master key.", status: .unauthorized)
        }
        let opened = sessions.open(masterKey: masterKey)
        var response = Self.redirect(to: "/ui/")
        response.setCookie(
            Cookie(
                name: Self.sessionCookie,
                value: opened.token,
                maxAge: Int(DashboardSessions.lifetime.components.seconds),
                path: "/ui",
                secure: Self.isBehindTLS(request),
                httpOnly: true,
                sameSite: .strict
            )
        )
        response.setCookie(Self.expired(Self.loginCookie))
        return response
    }

    /// `POST /ui/logout`: ends the session (the form carries its CSRF token) and goes back to the login page.
    func logout(_ request: Request) async throws -> Response {
        var request = request
        let form = try await DashboardForm.fields(of: &request)
        if let token = request.cookies[Self.sessionCookie]?.value, let masterKey,
            let session = sessions.session(token, masterKey: masterKey)
        {
            let presented = form["csrf"] ?? request.headers[.csrfToken] ?? ""
            guard ConstantTime.equals(Array(presented.utf8), Array(session.csrfToken.utf8)) else {
                return Self.page(Self.plainPage("The logout form expired; reload the dashboard and try again."), status: .forbidden)
            }
            sessions.close(token)
        }
        var response = Self.redirect(to: "/ui/login")
        response.setCookie(Self.expired(Self.sessionCookie))
        return response
    }

    /// `GET /ui/app.js` and `/ui/app.css`.
    static func asset(_ bytes: [UInt8], contentType: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Sessions

    /// The live session the request's cookie names.
    func session(of request: Request) -> DashboardSessions.Session? {
        guard let masterKey, let token = request.cookies[Self.sessionCookie]?.value, !token.isEmpty else { return nil }
        return sessions.session(token, masterKey: masterKey)
    }

    /// Whether a TLS proxy in front says the client's connection is HTTPS (`X-Forwarded-Proto: https`): the session
    /// cookie is then marked `Secure`, so a browser never sends it over plain HTTP.
    static func isBehindTLS(_ request: Request) -> Bool {
        request.headers[.xForwardedProto]?.lowercased() == "https"
    }

    /// Whether a dashboard request with this head is answered without reading its body: a login or logout form
    /// larger than ``maximumFormBytes`` or of unknown length, and any other body without a live session. So a
    /// client without the master key can make the gateway hold no more than a login form.
    func refusesBody(of request: Request, path: String) -> Bool {
        guard masterKey != nil else { return true }
        if path == "/ui/login" || path == "/ui/logout" {
            guard let length = request.headers[.contentLength].flatMap({ Int($0) }) else { return true }
            return length > Self.maximumFormBytes
        }
        return session(of: request) == nil
    }

    // MARK: Building answers

    /// What every /ui answer carries: no framing, no inline scripts or styles, no referrer, no caching.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        .xFrameOptions: "DENY",
        .referrerPolicy: "same-origin",
        .xContentTypeOptions: "nosniff",
        .cacheControl: "no-store",
    ]

    private func loginForm(message: String, status: HTTPResponse.Status) -> Response {
        let token = DashboardSessions.randomToken()
        let page = Self.text(PackageResources.login_html)
            .replacingOccurrences(of: "{{LOGIN_CSRF}}", with: token)
            .replacingOccurrences(of: "{{MESSAGE}}", with: DashboardForm.escapeHTML(message))
        var response = Self.page(page, status: status)
        response.setCookie(Cookie(name: Self.loginCookie, value: token, maxAge: 3600, path: "/ui", httpOnly: true, sameSite: .strict))
        return response
    }

    /// `html` as a page with the dashboard's headers.
    static func page(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A 303 to `location` with the dashboard's headers.
    static func redirect(to location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    private static func noDashboard() -> Response {
        page(
            plainPage(
                "The dashboard needs a master key to log in with: set auth.master_key (or MULTIPRODIGY_MASTER_KEY) and restart the gateway."
            ),
            status: .notFound
        )
    }

    private static func plainPage(_ message: String) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>MultiProdigy Gateway</title>\
        <link rel="stylesheet" href="/ui/app.css"></head><body><main class="notice"><h1>MultiProdigy Gateway</h1>\
        <p>\(DashboardForm.escapeHTML(message))</p></main></body></html>
        """
    }

    private static func expired(_ name: String) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/ui", httpOnly: true, sameSite: .strict)
    }

    private static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

extension HTTPField.Name {
    /// The dashboard's CSRF token on API calls that change something.
    static let csrfToken = HTTPField.Name("x-csrf-token")!
    /// The scheme a proxy in front received the request on.
    static let xForwardedProto = HTTPField.Name("x-forwarded-proto")!
    /// Whether a page may be framed.
    static let xFrameOptions = HTTPField.Name("x-frame-options")!
    /// What a page sends as its referrer.
    static let referrerPolicy = HTTPField.Name("referrer-policy")!
}
