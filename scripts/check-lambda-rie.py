"""Runs every artifact of `sam build` under AWS's Lambda Runtime Interface Emulator (RIE), the
program `sam local invoke` runs inside its container, with the environment `sam local invoke
--env-vars dev/env-vars.json` would give it, and sends it every event of its events/ folder.

What a pass proves, for each function of template.yaml built with rust-cargolambda:
  - the deployable .aws-sam/build/<LogicalId>/bootstrap (arm64; through qemu-user on another
    machine) starts as a Lambda `provided` runtime under AWS's own emulator, reads its settings
    from the template's environment as SAM resolves it, and answers every
    events/<Binary>/<case>.<status>.json with that status (API Gateway payload 2.0); a
    function with no route, invoked by an SQS event source mapping (the webhook fallback queue's
    consumer), is sent events/<Binary>/<case>.<n>-failed.json (Lambda's SQS event) and must name
    exactly n of its messages in its partial batch response (`batchItemFailures`);
  - it does so twice: with the development key from dev/env-vars.json (as `sam local invoke`
    runs it), and with its key read from a Secrets Manager secret in moto_server through the
    real AWS SDK (VIDEOSDK_SECRET_ID set, the development key variables blank);
  - dev/env-vars.json holds the key of dev/local.env (which signed the events' tokens), blanks
    VIDEOSDK_SECRET_ID, selects MEETING_BACKEND=local, and sets only variables the template
    declares (SAM silently drops the others); it pins the development webhook key
    (dev/webhook-public-key.pem, whose private half signed the webhook events) for the webhook
    function;
  - the webhook function's verified events reach EventBridge: in both runs its SDK is pointed
    at moto_server (AWS_ENDPOINT_URL_EVENTBRIDGE, as a deployed function reaches the real
    service), where the bus its EVENT_BUS_NAME names (as SAM resolves the template's !Ref)
    exists with a rule to an SQS queue, and the queue must end with exactly one event per
    event file answered 2xx, and one per message the queue's consumer did not name failed, per
    run.

Run by scripts/check-lambda-rie after `sam build` (scripts/check-lambda-build); it builds nothing.
Offline: dummy AWS credentials, every server on a free port of 127.0.0.1, every process it starts
stopped when it ends. Exit status 1 on any failure, with one line per problem.
"""

import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from videosdk_stand_in import videosdk_stand_in

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
BUILT_TEMPLATE = ROOT / ".aws-sam/build/template.yaml"
ENV_VARS_FILE = ROOT / "dev/env-vars.json"
DEV_KEY_FILE = ROOT / "dev/local.env"
DEV_WEBHOOK_KEY_FILE = ROOT / "dev/webhook-public-key.pem"
# The events, written afresh by scripts/check-lambda-rie (their tokens are valid for a day), or
# events/ when run on its own.
EVENTS = Path(os.environ.get("EVENTS_DIR", ROOT / "events"))
MOTO_SERVER = ROOT / ".venv/bin/moto_server"

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
EVENT_NAME = re.compile(r"^(?P<case>[A-Za-z0-9_-]+)\.(?P<status>[1-5][0-9][0-9])\.json$")
# The events of a function an SQS event source mapping invokes: how many messages it must name
# failed.
SQS_EVENT_NAME = re.compile(r"^(?P<case>[A-Za-z0-9_-]+)\.(?P<failed>[0-9]+)-failed\.json$")

# Bounds on every wait: the emulator listening, one invocation (the first one includes the cold
# start under qemu, and the function's own 10 s timeout), moto_server listening.
READY_SECONDS = 10
INVOKE_SECONDS = 60
MOTO_SECONDS = 60

# What `sam local invoke` would find in a shell with no AWS profile: dummy credentials and a
# region, no real account ever involved.
OFFLINE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}

# What the Lambda base image (provided.al2023) sets beside SAM's variables; LAMBDA_TASK_ROOT and
# _HANDLER are filled in per function.
BASE_IMAGE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "en_US.UTF-8", "TZ": ":/etc/localtime"}

HOST_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
    platform.machine().lower(), platform.machine().lower()
)
QEMU = "qemu-aarch64-static"
ARM64_SYSROOT = Path("/usr/aarch64-linux-gnu")  # libc6-arm64-cross
INSTALL_QEMU = "run scripts/install-qemu (apt-get install qemu-user-static libc6-arm64-cross)"


class Failure(Exception):
    """A problem that stops the run, told in one line."""


@dataclass
class Function:
    logical_id: str
    binary: str
    architecture: str
    bootstrap: Path
    handler: str
    environment: dict  # as `sam local invoke --env-vars dev/env-vars.json` resolves it
    events: list  # (path, expected status; for a queue consumer, messages named failed)
    consumer: bool = False  # invoked by an SQS event source mapping, not API Gateway


@dataclass
class Run:
    function: Function
    secret_source: str
    passed: int = 0
    failures: list = field(default_factory=list)  # one line each
    durations: list = field(default_factory=list)  # REPORT Duration, ms, in order
    init_duration: float | None = None  # REPORT Init Duration of the first invocation, ms
    init_ms: float | None = None  # the function's own "initialised" log field
    log: str = ""


def main() -> int:
    started = time.monotonic()
    os.chdir(ROOT)
    stop_on_signals()
    try:
        rie = find_emulator()
        functions = discover_functions()
        for function in functions:
            find_runner(function)  # fails now, with the install hint, rather than per function
        check_dev_env_vars(functions)
        with tempfile.TemporaryDirectory(prefix="check-lambda-rie.") as tmp, \
                moto_server(Path(tmp)) as endpoint:
            work = Path(tmp)
            # Not template variables (SAM would not pass them): the test points the SDK at moto,
            # as a deployed function reaches the real services.
            eventbridge = {"AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint}
            queue = event_buses_to_queue(endpoint, functions)
            runs = [run_function(rie, function, "dev/env-vars.json", "env",
                                 {**function.environment, **eventbridge}, work)
                    for function in functions]
            secret_arn = create_secret(endpoint)
            for function in functions:
                environment = dict(function.environment)
                environment.update(
                    VIDEOSDK_SECRET_ID=secret_arn,
                    # Blank, so the key can only come from the secret.
                    VIDEOSDK_API_KEY="",
                    VIDEOSDK_SECRET_KEY="",
                    AWS_ENDPOINT_URL_SECRETS_MANAGER=endpoint,
                    **eventbridge,
                )
                runs.append(run_function(rie, function, "Secrets Manager (moto)", "moto", environment, work))
            # The webhook function as deployed by default: VideoSDK's key not pinned but fetched at
            # cold start, over HTTPS, from a stand-in whose certificate comes from a test CA that
            # only the test-only TEST_ONLY_EXTRA_CA_FILE adds to the compiled-in roots.
            with videosdk_stand_in(work, DEV_WEBHOOK_KEY_FILE.read_text()) as videosdk:
                for function in functions:
                    if not receives_webhooks(function):
                        continue
                    environment = dict(function.environment)
                    environment.update(
                        VIDEOSDK_WEBHOOK_PUBLIC_KEY="",
                        VIDEOSDK_API_ENDPOINT=videosdk.endpoint,
                        TEST_ONLY_EXTRA_CA_FILE=str(videosdk.ca_file),
                        # A refetch after every failed signature, so a forgery is 401 as its event
                        # says (not 429 while a refetch waits for its interval).
                        WEBHOOK_KEY_REFETCH_SECONDS="0",
                        **eventbridge,
                    )
                    runs.append(run_function(rie, function, "key fetched over HTTPS", "https", environment, work,
                                             after_each=key_fetches_owed(videosdk)))
            # Reported after the runs' own failures, which usually explain it.
            try:
                check_published(endpoint, queue, runs)
                unpublished = None
            except Failure as failure:
                unpublished = failure
    except Failure as failure:
        print(f"check-lambda-rie: {failure}", file=sys.stderr)
        return 1

    print_table(runs)
    failed = [run for run in runs if run.failures]
    for run in failed:
        print(f"\n{run.function.logical_id} ({run.secret_source}): {len(run.failures)} failed", file=sys.stderr)
        for line in run.failures:
            print(f"  {line}", file=sys.stderr)
        print("  last lines of its emulator log:", file=sys.stderr)
        for line in run.log.splitlines()[-8:]:
            print(f"    {line}", file=sys.stderr)
    seconds = time.monotonic() - started
    invocations = sum(len(run.function.events) for run in runs)
    if unpublished is not None:
        print(f"check-lambda-rie: {unpublished}", file=sys.stderr)
        return 1
    if failed:
        print(f"check-lambda-rie: FAILED: {sum(len(r.failures) for r in failed)} problem(s) in "
              f"{invocations} invocations, listed above ({seconds:.1f} s)", file=sys.stderr)
        return 1
    print(f"OK: {len(functions)} functions x 2 secret sources (and the webhook function once more with "
          f"VideoSDK's key fetched over HTTPS from a stand-in with a test CA), {invocations} invocations "
          f"under the Lambda RIE, each answered with the status in its event's name (the queue consumer's "
          f"naming the messages its event's name says failed), every webhook answered as published "
          f"on the EventBridge bus ({seconds:.1f} s)")
    return 0


def stop_on_signals() -> None:
    """Turns SIGTERM and SIGHUP into an exit that runs every cleanup (Ctrl-C already does)."""
    def leave(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGHUP, leave)


def find_emulator() -> Path:
    """The RIE that ships with the SAM CLI, for this machine; LAMBDA_RIE overrides it."""
    if os.environ.get("LAMBDA_RIE"):
        rie = Path(os.environ["LAMBDA_RIE"])
    else:
        import samcli
        rie = Path(samcli.__file__).parent / "local/rapid" / f"aws-lambda-rie-{HOST_ARCH}"
    if not (rie.is_file() and os.access(rie, os.X_OK)):
        fix = ("unset LAMBDA_RIE to use the SAM CLI's" if os.environ.get("LAMBDA_RIE")
               else "run scripts/venv-sam (pip install aws-sam-cli, which ships it)")
        raise Failure(f"the Lambda Runtime Interface Emulator {rie} is missing or not executable: {fix}")
    return rie


def find_runner(function: Function) -> list:
    """The command that runs the function's bootstrap on this machine: itself, or an arm64 one
    through qemu-user with Debian's arm64 C library."""
    if function.architecture == HOST_ARCH:
        return [str(function.bootstrap)]
    if function.architecture != "arm64":
        raise Failure(f"{function.logical_id} is built for {function.architecture}: run this on such a machine")
    qemu = shutil.which(QEMU)
    if qemu is None:
        raise Failure(f"{QEMU} not found on PATH, needed to run arm64 bootstraps on this {HOST_ARCH} "
                      f"machine: {INSTALL_QEMU}")
    if not (ARM64_SYSROOT / "lib").is_dir():
        raise Failure(f"{ARM64_SYSROOT}/lib (the arm64 C library) is missing: {INSTALL_QEMU}")
    return [qemu, "-L", str(ARM64_SYSROOT), str(function.bootstrap)]


def discover_functions() -> list:
    """Every rust-cargolambda function of template.yaml (as scripts/check-lambda-build finds them),
    with its artifact and environment from SAM's own reading of the built template."""
    from samtranslator.yaml_helper import yaml_parse

    wanted = {}
    resources = yaml_parse(TEMPLATE.read_text())["Resources"]
    consumers = {resource["Properties"]["FunctionName"].get("Ref")
                 for resource in resources.values()
                 if resource.get("Type") == "AWS::Lambda::EventSourceMapping"}
    for name, resource in resources.items():
        metadata = resource.get("Metadata") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and metadata.get("BuildMethod") == "rust-cargolambda":
            wanted[name] = metadata["BuildProperties"]["Binary"]
    if not wanted:
        raise Failure("no rust-cargolambda function found in template.yaml")
    if not BUILT_TEMPLATE.is_file():
        raise Failure(f"{BUILT_TEMPLATE.relative_to(ROOT)} is missing: run sam build first (scripts/check-lambda-build)")
    if BUILT_TEMPLATE.stat().st_mtime < TEMPLATE.stat().st_mtime:
        raise Failure(f"{BUILT_TEMPLATE.relative_to(ROOT)} is older than template.yaml: run sam build again")

    try:
        env_vars_values = json.loads(ENV_VARS_FILE.read_text())
    except (OSError, ValueError) as error:
        raise Failure(f"cannot read {ENV_VARS_FILE.relative_to(ROOT)} as JSON: {error}") from None
    for section, values in env_vars_values.items():
        if section != "Parameters" and section not in wanted:
            raise Failure(f"{ENV_VARS_FILE.relative_to(ROOT)}: section {section!r} is neither "
                          "'Parameters' nor a function's LogicalId, so SAM would ignore it")
        if not isinstance(values, dict):
            raise Failure(f"{ENV_VARS_FILE.relative_to(ROOT)}: {section!r} is not an object of variables")

    functions = []
    for sam_function, config in sam_invoke_configs(env_vars_values):
        if sam_function.name not in wanted:
            continue
        binary = wanted.pop(sam_function.name)
        bootstrap = Path(config.code_abs_path) / "bootstrap"
        if not bootstrap.is_file():
            raise Failure(f"{bootstrap.relative_to(ROOT)} is missing: run sam build first (scripts/check-lambda-build)")
        architecture = (sam_function.architectures or ["x86_64"])[0]
        environment = config.env_vars.resolve()
        # Every variable the file sets must reach the function: SAM drops undeclared ones.
        for section in ("Parameters", sam_function.name):
            for name in env_vars_values.get(section, {}):
                if name not in environment:
                    raise Failure(f"{ENV_VARS_FILE.relative_to(ROOT)} sets {name}, which template.yaml "
                                  f"does not declare for {sam_function.name}, so SAM ignores it: declare "
                                  f'it in Globals.Function.Environment.Variables (with "" as its value)')
        consumer = sam_function.name in consumers
        functions.append(Function(sam_function.name, binary, architecture, bootstrap, sam_function.handler,
                                  environment, discover_events(binary, consumer), consumer))
    if wanted:
        raise Failure(f"{', '.join(sorted(wanted))} not in {BUILT_TEMPLATE.relative_to(ROOT)}: "
                      "run sam build again (scripts/check-lambda-build)")
    strays = sorted({p.name for p in EVENTS.iterdir() if p.is_dir()} - {f.binary for f in functions})
    if strays:
        raise Failure(f"events/{strays[0]}/ belongs to no function of template.yaml (folders are "
                      "named after BuildProperties.Binary)")
    return functions


def sam_invoke_configs(env_vars_values: dict):
    """(function, invoke config) for each function of the built template, computed by the SAM
    CLI's own code, as `sam local invoke --env-vars FILE` does after `sam build`, in a shell
    with only OFFLINE_AWS set (SAM lets shell variables override the template's values)."""
    from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(OFFLINE_AWS)
    try:
        stacks, _ = SamLocalStackProvider.get_stacks(str(BUILT_TEMPLATE))
        provider = SamFunctionProvider(stacks)
        runner = LocalLambdaRunner(local_runtime=None, function_provider=provider, cwd=str(ROOT),
                                   real_path=str(ROOT), env_vars_values=env_vars_values)
        return [(function, runner.get_invoke_config(function)) for function in provider.get_all()]
    finally:
        os.environ.clear()
        os.environ.update(saved)


def receives_webhooks(function) -> bool:
    """The webhook function: VideoSDK's webhooks, each answered 2xx on the bus. Other functions
    name the bus too (the drain, which publishes queued webhooks; moderation, its audit events)."""
    return function.binary == "videosdk-webhook"


def discover_events(binary: str, consumer: bool) -> list:
    folder = EVENTS / binary
    files = sorted(folder.glob("*")) if folder.is_dir() else []
    pattern, form, group = ((SQS_EVENT_NAME, "<case>.<n>-failed.json", "failed") if consumer
                            else (EVENT_NAME, "<case>.<status>.json", "status"))
    if not files:
        raise Failure(f"no events for {binary}: add events/{binary}/{form}")
    events = []
    for path in files:
        match = pattern.match(path.name)
        if not match:
            raise Failure(f"{binary}/{path.name}: not named {form}")
        events.append((path, int(match[group])))
    return events


def check_dev_env_vars(functions: list) -> None:
    """The development environment the events assume, as SAM resolves it for each function."""
    dev_key = read_dev_key()
    source = ENV_VARS_FILE.relative_to(ROOT)
    for function in functions:
        env = function.environment
        for name in dev_key:
            # Never print either value: compare only.
            if env.get(name) != dev_key[name]:
                raise Failure(f"{source} gives {function.logical_id} another {name} than "
                              f"{DEV_KEY_FILE.relative_to(ROOT)} (whose key signed the events' tokens): make them equal")
        if env.get("VIDEOSDK_SECRET_ID", "").strip():
            raise Failure(f"{source} must blank VIDEOSDK_SECRET_ID (\"\") so {function.logical_id} uses the development key")
        if env.get("MEETING_BACKEND") != "local":
            raise Failure(f"{source} must set MEETING_BACKEND=local for {function.logical_id}: the events "
                          "assume the local backend (videosdk calls VideoSDK's cloud)")
        if receives_webhooks(function):
            pinned = env.get("VIDEOSDK_WEBHOOK_PUBLIC_KEY", "").strip()
            if pinned != DEV_WEBHOOK_KEY_FILE.read_text().strip():
                raise Failure(f"{source} must pin VIDEOSDK_WEBHOOK_PUBLIC_KEY for {function.logical_id} "
                              f"to {DEV_WEBHOOK_KEY_FILE.relative_to(ROOT)}, whose private half signed "
                              "its events (without it the function would ask VideoSDK's cloud)")


def run_function(rie: Path, function: Function, secret_source: str, tag: str, environment: dict,
                 work: Path, after_each=None) -> Run:
    """Starts the emulator with the function, sends each event once, in order, then stops it.
    `after_each(path, expected)`, if given, checks what an invocation did besides answering: a
    line saying what is wrong, or None."""
    run = Run(function, secret_source)
    handler = work / f"{function.logical_id}-{tag}.sh"
    # The emulator runs HANDLER as the function's runtime process: here the bootstrap itself,
    # or the bootstrap through qemu-user.
    handler.write_text("#!/bin/sh\nexec " + shlex.join(find_runner(function)) + "\n")
    handler.chmod(0o755)
    env = {**BASE_IMAGE_ENV, **environment,
           "LAMBDA_TASK_ROOT": str(function.bootstrap.parent), "_HANDLER": function.handler}
    runtime_port, invoke_port = free_ports(2)
    log_path = work / f"{function.logical_id}-{tag}.log"
    with open(log_path, "wb") as log, process(
        [str(rie), "--log-level", "error",
         "--runtime-api-address", f"127.0.0.1:{runtime_port}",
         "--runtime-interface-emulator-address", f"127.0.0.1:{invoke_port}", str(handler)],
        env=env, cwd=function.bootstrap.parent, stdout=log, stderr=subprocess.STDOUT,
    ) as emulator:
        wait_for_port(invoke_port, READY_SECONDS, f"the emulator for {function.logical_id}", emulator, log_path)
        url = f"http://127.0.0.1:{invoke_port}{INVOKE_PATH}"
        for path, expected in function.events:
            problem = (invoke_consumer if function.consumer else invoke)(url, path.read_bytes(), expected)
            if problem:
                run.failures.append(f"{run.function.binary}/{path.name}: {problem}")
            else:
                run.passed += 1
            side_effect = after_each(path, expected) if after_each else None
            if side_effect:
                run.failures.append(f"{run.function.binary}/{path.name}: {side_effect}")
    run.log = log_path.read_text(errors="replace")
    read_report(run)
    return run


def key_fetches_owed(videosdk):
    """A check for run_function: each invocation fetches VideoSDK's key exactly as often as the
    function owes it. Once at cold start (counted with the first invocation, which the cold start
    precedes), and, with WEBHOOK_KEY_REFETCH_SECONDS=0, once more for each event whose signature
    the key in hand refuses: an event answered 401 that carries a signature (one without is
    refused before any key is used). Never otherwise: a function fetching the key on every
    invocation, or never again after a refusal, fails here by event."""
    seen = videosdk.key_fetches()
    first = True

    def check(path: Path, expected: int) -> str | None:
        nonlocal seen, first
        event = json.loads(path.read_bytes())
        headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
        refused = expected == 401 and bool(headers.get("videosdk-signature", "").strip())
        owed = int(first) + int(refused)
        owed_for = [reason for reason, applies in (("the cold start", first),
                                                   ("a refetch after the refused signature", refused))
                    if applies]
        now = videosdk.key_fetches()
        made, seen, first = now - seen, now, False
        if made == owed:
            return None
        return (f"VideoSDK's key was fetched over HTTPS {made} times during it, expected {owed} "
                f"({' and '.join(owed_for) or 'none'})")

    return check


def post_event(url: str, event: bytes) -> tuple:
    """Sends one event to the emulator: (the function's answer as JSON, None), or (None, what
    went wrong)."""
    request = urllib.request.Request(url, data=event, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=INVOKE_SECONDS) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        return None, f"the emulator answered HTTP {error.code} (did the function exit? see its log below)"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return None, f"no answer within {INVOKE_SECONDS} s ({error})"
    try:
        return json.loads(body), None
    except ValueError:
        return None, f"the answer is not JSON ({len(body)} bytes)"


def invoke(url: str, event: bytes, expected: int) -> str | None:
    """Sends one event; None when the function answers with `expected`, else what went wrong."""
    answer, problem = post_event(url, event)
    if problem:
        return problem
    status = answer.get("statusCode") if isinstance(answer, dict) else None
    if not isinstance(status, int):
        # A function error: the runtime's errorType (never its whole message, which is the
        # function's to word).
        kind = answer.get("errorType", "no errorType") if isinstance(answer, dict) else type(answer).__name__
        return f"expected {expected}, got no statusCode ({kind})"
    if status != expected:
        return f"expected {expected}, got {status}"
    return None


def invoke_consumer(url: str, event: bytes, failed: int) -> str | None:
    """Sends one SQS event to a queue consumer; None when its partial batch response names
    exactly `failed` of the event's messages (and no other id), else what went wrong."""
    answer, problem = post_event(url, event)
    if problem:
        return problem
    named = answer.get("batchItemFailures") if isinstance(answer, dict) else None
    if not isinstance(named, list):
        kind = answer.get("errorType", "no errorType") if isinstance(answer, dict) else type(answer).__name__
        return f"expected a partial batch response, got no batchItemFailures ({kind})"
    ids = {record["messageId"] for record in json.loads(event)["Records"]}
    strays = [failure for failure in named
              if not isinstance(failure, dict) or failure.get("itemIdentifier") not in ids]
    if strays:
        return f"batchItemFailures names {len(strays)} item(s) that are no message of the event"
    if len(named) != failed:
        return f"expected {failed} messages named failed, got {len(named)}"
    return None


REPORT = re.compile(r"^REPORT RequestId: \S+\t(?P<fields>.*)$", re.M)


def read_report(run: Run) -> None:
    """The emulator's REPORT line per invocation, and the function's own init time."""
    for match in REPORT.finditer(run.log):
        fields = dict(part.split(": ", 1) for part in match["fields"].split("\t") if ": " in part)
        if "Duration" in fields:
            run.durations.append(float(fields["Duration"].split()[0]))
        if "Init Duration" in fields and run.init_duration is None:
            run.init_duration = float(fields["Init Duration"].split()[0])
    init = re.search(r'"init_ms":\s*([0-9.]+)', run.log)
    run.init_ms = float(init[1]) if init else None
    if len(run.durations) != len(run.function.events):
        run.failures.append(f"{len(run.durations)} REPORT lines for {len(run.function.events)} invocations")


def print_table(runs: list) -> None:
    def ms(value):
        return "-" if value is None else f"{value:.1f}"

    header = ("function", "binary", "secret from", "events", "passed", "REPORT init",
              "1st (cold)", "warm median", "warm max", "init_ms (log)")
    rows = [header]
    for run in runs:
        warm = run.durations[1:]
        rows.append((run.function.logical_id, run.function.binary, run.secret_source,
                     str(len(run.function.events)), str(run.passed), ms(run.init_duration),
                     ms(run.durations[0] if run.durations else None),
                     ms(statistics.median(warm) if warm else None), ms(max(warm) if warm else None),
                     ms(run.init_ms)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    print()
    for n, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))
    print("\nms. From the emulator's REPORT lines: its Init Duration, then Duration of the first "
          "invocation and of the\nothers. The emulator starts the function inside the first "
          "invocation, so that Duration holds the cold start\n(under qemu on a non-arm64 machine); "
          "init_ms is the function's own log of its settings, secret and keys.")


def free_ports(count: int) -> list:
    """Ports on 127.0.0.1 that were free just now, all different (held open together)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_for_port(port: int, limit: float, what: str, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + limit
    while True:
        if proc.poll() is not None:
            tail = " | ".join(log_path.read_text(errors="replace").strip().splitlines()[-3:])
            raise Failure(f"{what} exited with status {proc.returncode} before listening on port {port}: {tail}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise Failure(f"{what} did not listen on 127.0.0.1:{port} within {limit} s") from None
            time.sleep(0.02)


@contextmanager
def process(argv: list, **kwargs):
    """A child process leading a session of its own. On the way out (also on failure or a signal)
    every process of that session is stopped: the emulator starts the function (qemu) in a process
    group of its own, so killing the emulator's group alone could leave the function running."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)
    try:
        yield proc
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in session_members(proc.pid):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while session_members(proc.pid) and time.monotonic() < deadline:
                proc.poll()  # reaps the leader, so it stops counting
                time.sleep(0.02)
            if not session_members(proc.pid):
                break
        proc.wait()


def session_members(session: int) -> list:
    """The live processes of a session, from /proc (field 6 of /proc/PID/stat)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == session and fields[0] != "Z":
            members.append(int(entry.name))
    return members


@contextmanager
def moto_server(work: Path):
    """moto_server from .venv on a free port; yields its endpoint."""
    if not os.access(MOTO_SERVER, os.X_OK):
        raise Failure(f"{MOTO_SERVER.relative_to(ROOT)} is missing: run scripts/venv")
    [port] = free_ports(1)
    log_path = work / "moto.log"
    with open(log_path, "wb") as log, process(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT,
    ) as proc:
        wait_for_port(port, MOTO_SECONDS, "moto_server", proc, log_path)
        yield f"http://127.0.0.1:{port}"


def aws_client(service: str, endpoint: str):
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name=OFFLINE_AWS["AWS_REGION"],
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def event_buses_to_queue(endpoint: str, functions: list) -> str:
    """Each bus a function's EVENT_BUS_NAME names, in moto, with a rule sending its `videosdk`
    events to one SQS queue; returns the queue's URL."""
    events, sqs = aws_client("events", endpoint), aws_client("sqs", endpoint)
    queue = sqs.create_queue(QueueName="check-lambda-rie")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    buses = {f.environment["EVENT_BUS_NAME"] for f in functions if f.environment.get("EVENT_BUS_NAME")}
    for bus in sorted(buses):
        events.create_event_bus(Name=bus)
        events.put_rule(Name="to-queue", EventBusName=bus, EventPattern=json.dumps({"source": ["videosdk"]}))
        events.put_targets(Rule="to-queue", EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return queue


def check_published(endpoint: str, queue: str, runs: list) -> None:
    """One event in the queue per webhook event answered 2xx, in every run: what the functions
    answered as published is on the bus (moto delivers rules' targets while it answers)."""
    sqs = aws_client("sqs", endpoint)
    received = 0
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            break
        for message in messages:
            if json.loads(message["Body"]).get("source") == "videosdk":
                received += 1
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    expected = sum(1 for run in runs if receives_webhooks(run.function)
                   for _, status in run.function.events if 200 <= status < 300)
    # The consumer publishes every message of its events it does not name failed.
    expected += sum(len(json.loads(path.read_bytes())["Records"]) - failed
                    for run in runs if run.function.consumer
                    for path, failed in run.function.events)
    if received != expected:
        raise Failure(f"the webhook functions answered {expected} events as published, but "
                      f"{received} reached the EventBridge bus's queue in moto")


def create_secret(endpoint: str) -> str:
    """The development key as a Secrets Manager secret in moto, in the format the functions read."""
    client = aws_client("secretsmanager", endpoint)
    secret = json.dumps(read_dev_key())
    return client.create_secret(Name="videosdk/check-lambda-rie", SecretString=secret)["ARN"]


def read_dev_key() -> dict:
    """VIDEOSDK_API_KEY and VIDEOSDK_SECRET_KEY from dev/local.env (which signed the events' tokens)."""
    values = {}
    for line in DEV_KEY_FILE.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not name.lstrip().startswith("#"):
            values[name.strip()] = value.strip()
    key = {}
    for name in ("VIDEOSDK_API_KEY", "VIDEOSDK_SECRET_KEY"):
        if not values.get(name):
            raise Failure(f"{name} missing from {DEV_KEY_FILE.relative_to(ROOT)}")
        key[name] = values[name]
    return key


if __name__ == "__main__":
    sys.exit(main())
