import EventModel
import FuzzSupport

/// The correlation extractor on any record (see `FuzzRecordInput`): `#headers: a,b` and
/// `#pointers: /x,/y` lines configure the rules the way a context in config.yaml does (an invalid
/// pointer keeps the defaults, as the config loader refuses it before extraction ever runs). The
/// extraction (a one-pass JSONScanner) must equal the JSONSerialization path it replaced (`CorrelationOracle`):
/// a difference stops the run like a crash, with the input kept.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCorrelation(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let input = FuzzRecordInput(UnsafeRawBufferPointer(start: data, count: size))
    var headers: [String]?
    var pointers: [String]?
    for (name, value) in input.directives {
        let list = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if name == "headers" { headers = list }
        if name == "pointers" {
            pointers = list
            for p in list { _ = JSONPointer(p) }
        }
    }
    let rules = (try? CorrelationRules.configured(headers: headers, pointers: pointers)) ?? .default
    let got = rules.extract(input.record)
    let want = CorrelationOracle.extract(rules, input.record)
    if got != want {
        fatalError("correlation: scanner \(got) differs from the JSONSerialization oracle \(want)")
    }
    return 0
}

runFuzzer(fuzzCorrelation)
