import NIOCore
import Testing

@testable import MultiProdigyJSON

@Suite struct JSONValueTests {
    @Test func parsesEveryKindAndWritesItBackCompactly() throws {
        let text = #"{ "a": [1, -2.50, 1e-7, true, false, null], "b": {"c": "x\"y\n\u00e9"}, "d": 12345678901234567890 }"#
        let value = try JSONValue.parse(text)
        #expect(value["a"]?.arrayValue?.count == 6)
        #expect(value["a"]?.arrayValue?[1] == .number("-2.50"))
        #expect(value["b"]?["c"]?.stringValue == "x\"y\né")
        #expect(value["d"] == .number("12345678901234567890"))
        #expect(value.text == #"{"a":[1,-2.50,1e-7,true,false,null],"b":{"c":"x\"y\né"},"d":12345678901234567890}"#)
    }

    @Test func keepsMemberOrderAndReplacesInPlace() throws {
        var value = try JSONValue.parse(#"{"z":1,"a":2,"m":3}"#)
        value["a"] = "two"
        value["new"] = true
        value["z"] = nil
        #expect(value.text == #"{"a":"two","m":3,"new":true}"#)
    }

    @Test func duplicateKeysKeepTheLastValueAtTheFirstPosition() throws {
        let value = try JSONValue.parse(#"{"k":1,"other":0,"k":2}"#)
        #expect(value.text == #"{"k":2,"other":0}"#)
    }

    @Test func parsesNonObjectRoots() throws {
        #expect(try JSONValue.parse("[1,2]") == [1, 2])
        #expect(try JSONValue.parse(" \"s\" ") == "s")
        #expect(try JSONValue.parse("null") == .null)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":1} x", "tru", "{\"a\" 1}"])
    func rejectsInvalidJSON(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(text) }
    }

    @Test func numberAccessors() {
        #expect(JSONValue.number("42").intValue == 42)
        #expect(JSONValue.number("42.0").intValue == 42)
        #expect(JSONValue.number("42.5").intValue == nil)
        #expect(JSONValue.number("0.25").doubleValue == 0.25)
        #expect(JSONValue.double(3).text == "3")
        #expect(JSONValue.double(0.5).text == "0.5")
        #expect(JSONValue.double(.nan) == .null)
    }

    @Test func literalsBuildObjectsInOrder() {
        let value: JSONValue = ["role": "user", "parts": [["text": "Hi"]], "n": 1, "ok": true, "none": nil]
        #expect(value.text == #"{"role":"user","parts":[{"text":"Hi"}],"n":1,"ok":true,"none":null}"#)
    }
}
