"""The definition API Gateway imports, generated from the contract, and the checks it must pass.

The contract (infra/openapi.yaml, OpenAPI 3.1) is what clients read and what the contract tests
run against. API Gateway's REST import takes OpenAPI 2.0 or 3.0 only, and only part of 3.0: this
script derives infra/api-gateway.yaml from it, keeping what the gateway uses:

- paths, operations, their parameters (inlined: no `components/parameters` references) and
  request bodies, whose schemas become the gateway's models for request validation;
- responses by status with their descriptions only (`aws_proxy` integrations pass the
  function's response through; the contract documents the bodies);
- the `apiKey` security scheme only (the bearer check stays in the functions);
- each operation's `x-amazon-apigateway-integration`, a request validator (body and required
  headers where the body is required, required headers alone elsewhere), and the gateway
  responses that put API Gateway's own errors in the API's envelope with a problem slug and
  `x-activity-id`;
- on every path, a browser preflight (`OPTIONS`, no API key: a preflight never carries one)
  integrated with the function of the path's operations, which answers it from the tenants'
  `allowedOrigins` (the contract does not list these operations: they are CORS, not API).
  Gateway responses echo the page's `Origin` so that a page can read API Gateway's own errors
  too: the gateway cannot read the tenant registry, and its errors carry nothing but a slug and
  the activity id.

  python3 infra/build/api_gateway.py           writes infra/api-gateway.yaml
  python3 infra/build/api_gateway.py --check   fails if that file is stale or breaks a rule

--check enforces, on the file as checked in: OpenAPI 3.0 (the 3.0 schema forced, not detected);
no YAML anchors or aliases (CloudFormation refuses them); security schemes of type apiKey only;
no `examples`, `discriminator`, `$ref` into `components/responses|parameters|headers`, or
3.1-only schema forms; an `aws_proxy` integration on every operation naming a function the SAM
template defines; every gateway response this API relies on, each rendering a well-formed
envelope whose problem status is the response's status; and the template including this file
(not the contract) with `OpenApiVersion` set. It exits non-zero with every finding listed.
"""
import argparse
import copy
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "infra" / "openapi.yaml"
OUTPUT = ROOT / "infra" / "api-gateway.yaml"
TEMPLATE = ROOT / "infra" / "template.yaml"

HEADER = """\
# GENERATED from infra/openapi.yaml by infra/build/api_gateway.py: do not edit; run
#   python3 infra/build/api_gateway.py
# The REST API's definition as API Gateway imports it (OpenAPI 3.0, the import's subset).
# The contract, with response bodies, examples and the bearer scheme, is infra/openapi.yaml.
"""

# API Gateway's own errors, as the API's problems: (status, slug, title, detail). The details
# are ours: no AWS message is passed on verbatim. https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
# Not REQUEST_TOO_LARGE: API Gateway does not support customising the 413 response (the
# supported-types page says so); the function answers the API's own 413 for its body limit.
GATEWAY_RESPONSES = {
    "ACCESS_DENIED": (403, "forbidden", "Forbidden", "access denied"),
    "API_CONFIGURATION_ERROR": (500, "internal", "Internal error", "the API is misconfigured"),
    "BAD_REQUEST_BODY": (400, "invalid-request", "Invalid request", "the body does not match the operation's schema"),
    "BAD_REQUEST_PARAMETERS": (400, "missing-header", "Missing header", "a required vbasoftware-* header (or the callback's state) is missing"),
    # the function may have acted before it failed or timed out: no invitation to retry a POST
    "INTEGRATION_FAILURE": (500, "internal", "Internal error", "the function failed"),
    "INTEGRATION_TIMEOUT": (500, "internal", "Internal error", "the function did not answer in time"),
    "INVALID_API_KEY": (403, "forbidden", "Forbidden", "the API key is missing or not valid"),
    "MISSING_AUTHENTICATION_TOKEN": (400, "invalid-request", "Invalid request", "no such route"),
    "QUOTA_EXCEEDED": (429, "too-many-requests", "Too many requests", "the API key's quota is used up"),
    "RESOURCE_NOT_FOUND": (400, "invalid-request", "Invalid request", "no such route"),
    "THROTTLED": (429, "too-many-requests", "Too many requests", "slow down and retry"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported-media-type", "Unsupported media type", "send application/json"),
    "DEFAULT_4XX": (400, "invalid-request", "Invalid request", "the request was refused"),
    "DEFAULT_5XX": (500, "internal", "Internal error", "an internal error occurred"),
}
RETRY_AFTER = {"THROTTLED": "1", "QUOTA_EXCEEDED": "3600"}

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

# What a gateway response adds for a browser (shared/src/http/cors.rs has the functions' own):
# no `*`, no credentials.
GATEWAY_CORS = {
    "gatewayresponse.header.Access-Control-Allow-Origin": "method.request.header.origin",
    "gatewayresponse.header.Access-Control-Expose-Headers": "'x-activity-id, retry-after, location'",
    "gatewayresponse.header.Vary": "'Origin'",
}


def preflight(path, operations):
    """The browser preflight of a path: answered by the function of its operations."""
    first = next(iter(operations.values()))
    in_path = [copy.deepcopy(p) for p in first.get("parameters", []) if p.get("in") == "path"]
    return {
        "operationId": first["operationId"] + "Preflight",
        "summary": f"Browser preflight (CORS) for {path}",
        **({"parameters": in_path} if in_path else {}),
        "security": [],
        "responses": {
            "200": {"description": "The page's origin is one a tenant allows: the methods and headers it may send."},
            "403": {"description": "No tenant allows the page's origin."},
        },
        "x-amazon-apigateway-integration": copy.deepcopy(first["x-amazon-apigateway-integration"]),
    }
VALIDATORS = {
    "body-and-headers": {"validateRequestBody": True, "validateRequestParameters": True},
    "headers": {"validateRequestBody": False, "validateRequestParameters": True},
}


class NoAliasDumper(yaml.SafeDumper):
    """Writes repeated objects out in full: no anchors, no aliases."""

    def ignore_aliases(self, data):
        return True


def gateway_response(kind):
    status, slug, title, detail = GATEWAY_RESPONSES[kind]
    detail_json = json.dumps(detail)
    body = (
        '{"data":null,"error":{"type":"/problems/%s","title":%s,"status":%d,"detail":%s,'
        '"instance":"$context.path#$context.requestId"},"debug":{"activityID":"$context.requestId"}}'
        % (slug, json.dumps(title), status, detail_json)
    )
    # a context variable is a documented mapping source ("Parameter mapping source reference
    # for REST APIs": context.<name>), and a gateway response header takes any of them
    params = {
        "gatewayresponse.header.x-activity-id": "context.requestId",
        "gatewayresponse.header.Cache-Control": "'no-store'",
    }
    if kind in RETRY_AFTER:
        params["gatewayresponse.header.Retry-After"] = "'%s'" % RETRY_AFTER[kind]
    params.update(GATEWAY_CORS)
    return {
        "statusCode": str(status),
        "responseParameters": params,
        "responseTemplates": {"application/json": body},
    }


def convert_schema(schema, where):
    """A 3.1 request schema as 3.0 (and JSON Schema draft 4, which the gateway's models use)."""
    if isinstance(schema, list):
        return [convert_schema(s, where) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        # `default` too: REST API models do not support it (the import's known limits); the
        # functions apply their defaults themselves
        if key in ("examples", "example", "discriminator", "$schema", "$comment", "default"):
            continue
        if key == "const":
            out["enum"] = [value]
        elif key == "type" and isinstance(value, list):
            kinds = [k for k in value if k != "null"]
            if len(kinds) != 1:
                raise SystemExit(f"{where}: cannot express type {value} in OpenAPI 3.0")
            out["type"] = kinds[0]
            if "null" in value:
                out["nullable"] = True
        elif key == "type" and value == "null":
            raise SystemExit(f"{where}: a request schema of type null has no OpenAPI 3.0 form")
        elif key == "enum":
            out["enum"] = [v for v in value if v is not None]
            if None in value:
                out["nullable"] = True
        elif key in ("properties", "patternProperties", "$defs", "definitions"):
            out[key] = {k: convert_schema(v, f"{where}.{k}") for k, v in value.items()}
        else:
            out[key] = convert_schema(value, f"{where}.{key}")
    return out


def referenced_schemas(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for v in node.values():
            referenced_schemas(v, found)
    elif isinstance(node, list):
        for v in node:
            referenced_schemas(v, found)
    return found


def resolve(contract, ref):
    node = contract
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def generate(contract):
    out = {
        "openapi": "3.0.3",
        "info": {
            "title": contract["info"]["title"],
            "version": contract["info"]["version"],
            "description": "Generated from infra/openapi.yaml (the contract) for API Gateway's import.",
        },
        "security": [{"apiKeyAuth": []}],
        "x-amazon-apigateway-api-key-source": "HEADER",
        "x-amazon-apigateway-request-validators": VALIDATORS,
        "x-amazon-apigateway-gateway-responses": {k: gateway_response(k) for k in GATEWAY_RESPONSES},
        "paths": {},
    }
    for path, item in contract["paths"].items():
        out_item = {}
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            where = f"{method.upper()} {path}"
            new = {"operationId": op["operationId"]}
            if "summary" in op:
                new["summary"] = op["summary"]
            params = []
            for p in op.get("parameters", []):
                p = resolve(contract, p["$ref"]) if "$ref" in p else p
                p = copy.deepcopy(p)
                p.pop("description", None)
                p["schema"] = convert_schema(p.get("schema", {}), f"{where} {p['name']}")
                params.append(p)
            if params:
                new["parameters"] = params
            body = op.get("requestBody")
            if body:
                new["requestBody"] = {
                    "required": bool(body.get("required")),
                    "content": {
                        "application/json": {"schema": copy.deepcopy(body["content"]["application/json"]["schema"])}
                    },
                }
            new["responses"] = {}
            for status, response in op["responses"].items():
                if "$ref" in response:
                    response = resolve(contract, response["$ref"])
                new["responses"][str(status)] = {"description": response.get("description", "")}
            new["security"] = [
                {name: scopes for name, scopes in req.items() if name == "apiKeyAuth"}
                for req in op.get("security", contract.get("security", []))
            ]
            new["x-amazon-apigateway-request-validator"] = (
                "body-and-headers" if body and body.get("required") else "headers"
            )
            new["x-amazon-apigateway-integration"] = copy.deepcopy(op["x-amazon-apigateway-integration"])
            out_item[method] = new
        if "options" in out_item:
            raise SystemExit(f"OPTIONS {path}: the contract does not define preflights; the generator adds them")
        out_item["options"] = preflight(path, out_item)
        out["paths"][path] = out_item
    # the schemas request bodies use, and what they use in turn
    schemas = contract["components"]["schemas"]
    wanted, seen = referenced_schemas(out["paths"], set()), set()
    while wanted - seen:
        name = sorted(wanted - seen)[0]
        seen.add(name)
        referenced_schemas(schemas[name], wanted)
    out["components"] = {
        "securitySchemes": {"apiKeyAuth": copy.deepcopy(contract["components"]["securitySchemes"]["apiKeyAuth"])},
        "schemas": {name: convert_schema(schemas[name], name) for name in sorted(seen)},
    }
    return out


def render(definition):
    return HEADER + yaml.dump(definition, Dumper=NoAliasDumper, sort_keys=False, width=4096, allow_unicode=True)


# ---------------------------------------------------------------- checks


def find_aliases(text):
    """The anchors and aliases in a YAML text."""
    found = []
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            found.append(f"line {event.start_mark.line + 1}: {'alias *' if isinstance(event, yaml.AliasEvent) else 'anchor &'}{event.anchor}")
    return found


def walk(node, path=""):
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}/{i}")


class CfnLoader(yaml.SafeLoader):
    """Reads a CloudFormation template: short-form intrinsics become plain values."""


CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: (
    loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
    else loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode)
    else loader.construct_mapping(node)))


def check(text, template_text):
    """Every rule the REST import and this API need, as a list of findings."""
    findings = []
    definition = yaml.safe_load(text)
    if not str(definition.get("openapi", "")).startswith("3.0."):
        findings.append(f"openapi is {definition.get('openapi')!r}: API Gateway imports 2.0 or 3.0 only")
    try:
        from openapi_spec_validator import OpenAPIV30SpecValidator

        errors = list(OpenAPIV30SpecValidator(definition).iter_errors())
        findings += [f"OpenAPI 3.0: {e.message.splitlines()[0][:160]} (at {'/'.join(map(str, e.absolute_path))})" for e in errors[:20]]
    except ImportError:
        findings.append("openapi-spec-validator is not installed (infra/local/requirements.txt)")
    findings += [f"YAML {a} (CloudFormation refuses anchors and aliases)" for a in find_aliases(text)]
    for name, scheme in definition.get("components", {}).get("securitySchemes", {}).items():
        if scheme.get("type") != "apiKey":
            findings.append(f"security scheme {name} is {scheme.get('type')!r}: the REST import takes apiKey only")
    for path, node in walk(definition):
        if isinstance(node, dict):
            for key in ("examples", "discriminator"):
                if key in node and "/properties/" not in f"{path}/{key}/":
                    findings.append(f"{path}: `{key}` is not accepted by the REST import")
            ref = node.get("$ref")
            if isinstance(ref, str) and re.match(r"#/components/(responses|parameters|headers)/", ref):
                findings.append(f"{path}: {ref} is not resolved by the REST import: inline it")
            if "type" in node and (isinstance(node["type"], list) or node["type"] == "null") and "/properties/type" not in path:
                findings.append(f"{path}: type {node['type']!r} is OpenAPI 3.1 only")
            if "default" in node and "/properties/default" not in f"{path}/default/" and "type" in node:
                findings.append(f"{path}: `default` is not supported in REST API models")
    template = yaml.load(template_text, Loader=CfnLoader)
    functions = {n for n, r in template.get("Resources", {}).items() if r.get("Type") == "AWS::Serverless::Function"}
    for path, item in definition.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            where = f"{method.upper()} {path}"
            integration = op.get("x-amazon-apigateway-integration")
            if not integration:
                findings.append(f"{where}: no x-amazon-apigateway-integration")
                continue
            if integration.get("type") != "aws_proxy" or integration.get("httpMethod") != "POST":
                findings.append(f"{where}: the integration must be aws_proxy over POST")
            uri = json.dumps(integration.get("uri"))
            named = re.findall(r"\$\{(\w+)\.Arn\}", uri)
            if len(named) != 1 or named[0] not in functions:
                findings.append(f"{where}: the integration names {named or 'no function'}, not one of the template's {sorted(functions)}")
            if method == "options":
                if op.get("security") != []:
                    findings.append(f"{where}: a preflight must need no API key (browsers send none)")
                continue
            if op.get("x-amazon-apigateway-request-validator") not in definition.get("x-amazon-apigateway-request-validators", {}):
                findings.append(f"{where}: no request validator")
        preflight_op = item.get("options")
        others = [json.dumps(item[m].get("x-amazon-apigateway-integration")) for m in METHODS if m != "options" and m in item]
        if preflight_op is None:
            findings.append(f"{path}: no OPTIONS (a browser's preflight would be refused)")
        elif others and json.dumps(preflight_op.get("x-amazon-apigateway-integration")) not in others:
            findings.append(f"OPTIONS {path}: not integrated with the function of the path's operations")
    responses = definition.get("x-amazon-apigateway-gateway-responses", {})
    for kind in sorted(set(responses) - set(GATEWAY_RESPONSES)):
        findings.append(f"gateway response {kind}: not a type this API customises (REQUEST_TOO_LARGE cannot be customised)")
    for kind in GATEWAY_RESPONSES:
        response = responses.get(kind)
        if not response:
            findings.append(f"gateway response {kind} is missing: API Gateway's own error would not be in the envelope")
            continue
        rendered = response.get("responseTemplates", {}).get("application/json", "")
        rendered = rendered.replace("$context.error.messageString", '"a message"')
        rendered = re.sub(r"\$context\.[A-Za-z.]+", "x", rendered)
        try:
            envelope = json.loads(rendered)
            problem = envelope["error"]
            ok = (
                envelope["data"] is None
                and str(problem["status"]) == str(response.get("statusCode"))
                and re.fullmatch(r"/problems/[a-z-]+", problem["type"])
                and envelope["debug"]["activityID"]
            )
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            findings.append(f"gateway response {kind}: its body is not the envelope with a problem of its status")
        if response.get("responseParameters", {}).get("gatewayresponse.header.x-activity-id") != "context.requestId":
            findings.append(f"gateway response {kind}: no x-activity-id header")
        for header, value in GATEWAY_CORS.items():
            if response.get("responseParameters", {}).get(header) != value:
                findings.append(f"gateway response {kind}: {header} is not {value} (a page could not read it)")
    api = next((r for r in template.get("Resources", {}).values() if r.get("Type") == "AWS::Serverless::Api"), None)
    if api is None:
        findings.append("the template defines no AWS::Serverless::Api")
    else:
        props = api.get("Properties", {})
        include = json.dumps(props.get("DefinitionBody"))
        if "api-gateway.yaml" not in include:
            findings.append("the template's API does not include infra/api-gateway.yaml")
        if not props.get("OpenApiVersion"):
            findings.append("the template's API sets no OpenApiVersion: SAM adds a stage named `Stage`")
    return findings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on a stale file or a broken rule")
    parser.add_argument("--file", type=Path, default=OUTPUT, help="the definition to check (default: infra/api-gateway.yaml)")
    args = parser.parse_args()
    fresh = render(generate(yaml.safe_load(CONTRACT.read_text())))
    if not args.check:
        OUTPUT.write_text(fresh)
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
        return 0
    text = args.file.read_text() if args.file.exists() else ""
    findings = [] if text else [f"{args.file} does not exist: run python3 infra/build/api_gateway.py"]
    if text and args.file == OUTPUT and text != fresh:
        findings.append(f"{OUTPUT.relative_to(ROOT)} is stale: run python3 infra/build/api_gateway.py and commit it")
    if text:
        findings += check(text, TEMPLATE.read_text())
    for f in findings:
        print(f"api-gateway: {f}", file=sys.stderr)
    if findings:
        return 1
    print(f"api-gateway: {args.file.relative_to(ROOT) if args.file.is_relative_to(ROOT) else args.file} passes ({len(yaml.safe_load(text)['paths'])} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
