// The regex check's own cases (src/core/regex/safety.ts), shared by its unit test and
// the second opinion of recheck (test/integration/regex-recheck.test.mjs). An entry is a
// pattern, or [pattern, flags]; a rejected one is [pattern, kind, offending part or null, flags?].

// Each accepted pattern is a shape rule authors need; each rejected one blows up on a
// crafted line (the comment says which line).
export const ACCEPTED = [
  String.raw`^Failed password for (?<user>\S+) from (?<ip>\S+) port \d+ ssh2$`,
  String.raw`^"(?:[^"\\]|\\.)*" 40[13] `, // branches start with different characters
  String.raw`^(\d+\.)+\d+$`, // each repetition ends with a dot the digits cannot read
  String.raw`^\S*(?: +\S+)* *$`, // a space starts each repetition
  String.raw`^(?:ab|cd)+$`,
  String.raw`^(?:a|ab)*c$`, // overlapping first characters, but one way to read any text
  String.raw`^a{2,5}b{0,3}$`,
  String.raw`^[0-9]{1,3}(?:\.[0-9]{1,3}){3}$`,
  String.raw`\d+`, // unanchored, but any digit ends the match: it cannot fail after one
  String.raw`error: (?<msg>.*)`,
  String.raw`^(a+)+`, // no end anchor: the first a already matches
  String.raw`^.*$`,
  String.raw`^(?:a|b)*c$`,
  String.raw`^x(?=.*y)`,
  String.raw`^(?<w>a)\k<w>+$`,
  String.raw`^(?<user>.*?) from (?<ip>\S+)(?: port \d+)?(?:: [\s\S]*)?$`, // the tail cannot fail
  String.raw`^(?<user>(?:(?! from ).)*) from (?<ip>\S+) .*$`, // tempered: the name stops at the first " from "
  String.raw`^user=(?<user>\S*(?:\s+\S+)*)\s*$`,
  String.raw`^\[?(?:ERROR|CRITICAL|FATAL)\]?(?::|\s)`,
  String.raw`^(?:\w+ )+\w+$`,
  String.raw`^[^:]+: [^:]+$`,
  String.raw`^\((?:[^()]|\([^()]*\))*\)$`,
  // Counted repetition, unrolled: each copy of (a|ab) starts where the last one ended, one
  // way to read any text (linear: issue 16 listed it, but no line makes it slow).
  '(a|ab){30}',
  String.raw`^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$`,
  String.raw`^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (?<host>\S+)$`,
  // The u flag: property classes, braced and paired escapes, astral characters.
  [String.raw`^\p{Lu}\p{Ll}+ (?<n>\p{Nd}+)$`, 'u'],
  [String.raw`^(?:\u{1F600}|\uD83D\uDE01| )+x$`, 'u'],
  ['^(?:\u{1F600}|[^\u{1F600}x])+x$', 'u'],
  [String.raw`^(?:\p{L}+ )+\p{L}+$`, 'u'],
  [String.raw`^user=(?<user>[^\s=]+) état=(?<s>\S+)$`, 'i'],
];

export const REJECTED = [
  // [pattern, kind, offending part]
  [String.raw`^(a+)+$`, 'nested', '(a+)+'], // "aaaa...!"
  [String.raw`^(a*)*$`, 'nested', '(a*)*'],
  [String.raw`^(\w+\s?)+$`, 'nested', String.raw`(\w+\s?)+`], // "aaaa...!"
  [String.raw`^([a-z0-9.]+\.)+com$`, 'nested', String.raw`([a-z0-9.]+\.)+`], // "a.a.a.a...!"
  [String.raw`^(?:(?:a+){2,})$`, 'nested', null],
  [String.raw`^(x+x+)+y$`, 'nested', '(x+x+)+'],
  [String.raw`^(a|a)+$`, 'alternation', '(a|a)+'],
  [String.raw`^(\d|\w)+$`, 'alternation', String.raw`(\d|\w)+`],
  [String.raw`^(?:a|a){1,1000}$`, 'alternation', null], // read as unbounded beyond the unroll budget
  [String.raw`^\d+\d+x$`, 'adjacent', null], // "1111...1"
  [String.raw`^.*.*x$`, 'adjacent', null],
  [String.raw`^.*a.*$`, 'adjacent', null], // "aaaa...\u2028": $ fails after every split
  [String.raw`^(?<user>.*?) from (?<ip>\S+)(?: port \d+)?(?:: .*)?$`, 'adjacent', null], // " from a: " x N + "\u2028"
  [String.raw`^\s*(?<user>\S*)\s*:$`, 'adjacent', null],
  [String.raw`\s+$`, 'unanchored', String.raw`\s+`], // "a" + spaces + "a": 4 s at 64 KiB
  [String.raw`\d+x`, 'unanchored', String.raw`\d+`],
  [String.raw`^x(?=(a+)+y)`, 'nested', '(a+)+'], // a lookahead costs as much as the pattern
  ['^' + 'a'.repeat(5000) + '$', 'too-complex', null],
  // Issue 16: counted repetition multiplies the ways without any loop ("x " + "a" x 39 +
  // "!" took 10.8 s); a large bound costs what the loop costs.
  [String.raw`^(?<ip>\S+) (?:a?){24}a{24}$`, 'multiplied', '(?:a?){24}'],
  ['^' + '(?:a|a)'.repeat(20) + '$', 'multiplied', null], // a million ways, no quantifier
  ['^a?a?a?a?a?a?a?a?[^b]*$', 'multiplied', 'a?a?a?a?a?a?a?a?'],
  [String.raw`^(?:a|a){300,1000}`, 'alternation', null], // the count is kept: 300 copies must match
  [String.raw`^a{0,500}.*x$`, 'adjacent', null],
  [String.raw`\S{1,500}x`, 'unanchored', String.raw`\S{1,500}`],
  // What surely matches: a lookahead that can fail never proves the rest accepted.
  [String.raw`^(?:a|a)+(?!a)(?!b)[^]*`, 'alternation', '(?:a|a)+'],
  // The u flag: \p{L} is letters, not any character ("A" x 30 + "!").
  [String.raw`^(?:\p{L}+\s?)+$`, 'nested', String.raw`(?:\p{L}+\s?)+`, 'u'],
  [String.raw`^(?:\uD83D\uDE00|\u{1F600})+$`, 'alternation', null, 'u'],
  // Case folding beyond ASCII: À and à are one letter under i.
  ['^(?:À|à)+$', 'alternation', null, 'i'],
  // Fail closed: what the check cannot read is refused, naming it.
  ['^' + '('.repeat(3000) + '(?:a+)+' + ')'.repeat(3000) + '$', 'unsupported', 'groups nested deeper than 200'],
  [String.raw`^(?:[\p{L}--[a-z]]+\s?)+$`, 'unsupported', 'set operations of the v flag', 'v'],
];
