"""The corpus of template bodies with filters, shared by the lint, renderer and matcher tests.

VALID: a body, the values of its variables and the text it renders to (the text the matcher must match).
INVALID: a body and its findings as (code, the text the finding underlines) in order, and words of the first
message; such a body keeps the wrong variable as literal text, so the renderer and the matcher never fill it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Valid:
    body: str
    values: dict
    text: str


@dataclass(frozen=True)
class Invalid:
    body: str
    findings: tuple[tuple[str, str], ...]
    hint: str


VALID = [
    Valid(
        "Hi {{name|default:'there'|capitalize}}, your Acme order is ready.",
        {"name": ""},
        "Hi There, your Acme order is ready.",
    ),
    Valid(
        "Hi {{name|default:'there'|capitalize}}, your Acme order is ready.",
        {"name": "aSHA"},
        "Hi Asha, your Acme order is ready.",
    ),
    Valid('Hi {{name|default:"dear customer"}}, Acme here.', {}, "Hi dear customer, Acme here."),
    Valid(
        "Acme calls you on {{mobile|slice:-10}} today.",
        {"mobile": "+919876543210"},
        "Acme calls you on 9876543210 today.",
    ),
    Valid("Your Acme code ends {{code|slice:-3,3}} now.", {"code": "hello"}, "Your Acme code ends llo now."),
    Valid("Acme points: {{points|plus:'1'}} now.", {"points": "1"}, "Acme points: 2 now."),
    Valid("Acme total {{amount|times:4}} EUR.", {"amount": "5"}, "Acme total 20 EUR."),
    Valid("Acme share {{total|divided_by:3}} each.", {"total": "10"}, "Acme share 3 each."),
    Valid("Acme share {{total|divided_by:4}} each.", {"total": "10.0"}, "Acme share 2.5 each."),
    Valid("Acme seats left: {{seats|minus:2}}.", {"seats": "4"}, "Acme seats left: 2."),
    Valid("Acme rate {{rate|round:2}} pct.", {"rate": "4.5612"}, "Acme rate 4.56 pct."),
    Valid("Acme: {{n|ceil}} up, {{n|floor}} down, {{n|modulo:2}} odd.", {"n": "4.6"}, "Acme: 5 up, 4 down, 0.6 odd."),
    Valid("Due on {{due|date_format:'d/m/Y'}} at Acme.", {"due": "2024-05-01"}, "Due on 01/05/2024 at Acme."),
    Valid(
        "Due {{due|date_format:'%d %B %Y, %H:%M'}} at Acme.",
        {"due": "2024-05-01T14:05:00"},
        "Due 01 May 2024, 14:05 at Acme.",
    ),
    Valid("Track at acme.in/t/{{order|url_encode}} now.", {"order": "B 7/9"}, "Track at acme.in/t/B%207%2F9 now."),
    Valid("Hello {{name|strip|upcase}} from Acme.", {"name": "  asha "}, "Hello ASHA from Acme."),
    Valid("Hello {{name | downcase | truncate: 5}} from Acme.", {"name": "ALEXANDRA"}, "Hello al... from Acme."),
    Valid(
        "Order {{order|prepend:'#'|append:'-IN'}} shipped by Acme.", {"order": "B7"}, "Order #B7-IN shipped by Acme."
    ),
    Valid("Hi {{name}} and {{name|upcase}}, Acme says hi.", {"name": "Asha"}, "Hi Asha and ASHA, Acme says hi."),
]

INVALID = [
    Invalid("Hi {{name|upper}}, your Acme order is ready.", (("bad_filter", "upper"),), "did you mean upcase?"),
    Invalid("Hi {{name|Upcase}}, your Acme order is ready.", (("bad_filter", "Upcase"),), "did you mean upcase?"),
    Invalid("Hi {{name|default}}, your Acme order.", (("bad_filter", "default"),), "write default:'text'"),
    Invalid("Hi {{name|default:there}}, your Acme order.", (("bad_filter", "there"),), "Put text in quotes"),
    Invalid("Hi {{name|default: Default value}}, Acme.", (("bad_filter", "Default value"),), "'Default value'"),
    Invalid("Hi {{name|default:''}}, your Acme order.", (("bad_filter", "''"),), "default value is empty"),
    Invalid("Hi {{name|default:“x”}}, your Acme order.", (("bad_filter", "“"),), "straight quotes"),
    Invalid("Hi {{name|default:'x}}, your Acme order.", (("bad_filter", "'x"),), "not closed"),
    Invalid("Hi {{name|default:}}, your Acme order.", (("bad_filter", ":"),), "argument is expected"),
    Invalid("Pay {{amount|plus:'x'}} to Acme.", (("bad_filter", "'x'"),), "not a number"),
    Invalid("Pay {{amount|divided_by:0}} to Acme.", (("bad_filter", "0"),), "dividing by 0"),
    Invalid("Pay {{amount|round:11}} to Acme.", (("bad_filter", "11"),), "give 0 to 10"),
    Invalid("Code {{code|slice:1,0}} from Acme.", (("bad_filter", "0"),), "give 1 or more"),
    Invalid("Code {{code|slice:'a'}} from Acme.", (("bad_filter", "'a'"),), "not a whole number"),
    Invalid("Code {{code|truncate}} from Acme.", (("bad_filter", "truncate"),), "truncate:length"),
    Invalid("Hi {{name|}}, your Acme order.", (("bad_filter", "|"),), "filter name is expected"),
    Invalid("Hi {{name|upcase }}, your Acme order.", (("bad_filter", " "),), "Remove the space before }}"),
    Invalid("Hi {{name|upcase:1}}, your Acme order.", (("bad_filter", "upcase:1"),), "takes no argument"),
    Invalid("Hi {{name|upcase downcase}}, Acme.", (("bad_filter", "downcase"),), "Separate filters with |"),
    Invalid("Due {{due|date_format:'d at Y'}} at Acme.", (("bad_filter", "'d at Y'"),), "not a date format letter"),
    Invalid("Due {{due|date_format:'%Q'}} at Acme.", (("bad_filter", "'%Q'"),), "not a date directive"),
    Invalid(
        "Hi {{name|upper}} from {{city|lower}}, Acme.",
        (("bad_filter", "upper"), ("bad_filter", "lower")),
        "did you mean upcase?",
    ),
    Invalid(
        "Hi {{ name|upcase }}, your Acme order.",
        (("malformed_variable", "{{ name|upcase }}"),),
        "write {{name|upcase}}",
    ),
    Invalid("Hi {name|upcase}, your Acme order.", (("malformed_variable", "{name|upcase}"),), "single braces"),
]
