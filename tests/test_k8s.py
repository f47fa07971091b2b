"""deploy/k8s (issue 22, "Kubernetes and containers"), validated offline since no cluster runs
here: each kustomization is built with `kubectl kustomize` and every object is checked against the
Kubernetes API's schemas (kubernetes-validate, strict: an unknown field fails). Then what the
schemas cannot know: the shards' count, the StatefulSet's replicas and the site's --shards agree;
the site's URL template names the StatefulSet's pods through its headless Service; the probes read
/healthz on the control port; each container's arguments, with the variables Kubernetes would put
in them, are ones axisim takes, and give each pod ordinal its shard of the site; the memory asked
for holds the shard's devices at the README's figure."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from axisim.cli import parser
from axisim.fleet_cli import plan_from_args, shard_from

REPO = Path(__file__).resolve().parent.parent
KUSTOMIZATIONS = ["deploy/k8s/base", "deploy/k8s/overlays/small"]
KUBERNETES = "1.28.0"  # the oldest release with the pod-index label the shards read
KB_PER_DEVICE = 120  # README "Performance" (34 KB per device measured at 100,000; 83.7 KB before) with room
RUNTIME_MIB = 100  # Python, aiohttp and the control API before the first device

kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is a [test] extra")
pytestmark = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is not installed (.ci/run installs Debian's kubernetes-client)"
)


def build(path: str) -> list[dict[str, Any]]:
    built = subprocess.run(
        ["kubectl", "kustomize", str(REPO / path)], capture_output=True, text=True, timeout=120, check=False
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc]


def one(docs: list[dict[str, Any]], kind: str, component: str | None = None) -> dict[str, Any]:
    found = [
        d for d in docs if d["kind"] == kind
        and (component is None or d["metadata"]["labels"].get("app.kubernetes.io/component") == component)
    ]  # fmt: skip
    assert len(found) == 1, f"{len(found)} {kind} ({component})"
    return found[0]


def container_env(container: dict[str, Any], config: dict[str, str], pod_ip: str, ordinal: int) -> dict[str, str]:
    """The variables as the kubelet would set them for pod `ordinal`."""
    values: dict[str, str] = {}
    for item in container.get("env", []):
        source = item.get("valueFrom", {})
        if "configMapKeyRef" in source:
            values[item["name"]] = config[source["configMapKeyRef"]["key"]]
        elif source.get("fieldRef", {}).get("fieldPath") == "status.podIP":
            values[item["name"]] = pod_ip
        elif source.get("fieldRef", {}).get("fieldPath") == "metadata.labels['apps.kubernetes.io/pod-index']":
            values[item["name"]] = str(ordinal)
        else:
            values[item["name"]] = item["value"]
    return values


def expand(args: list[str], env: dict[str, str]) -> list[str]:
    """Kubernetes' $(VAR) expansion of a container's arguments."""
    return [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in args]


def memory_mib(text: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    return float(text[:-2]) * units[text[-2:]]


@pytest.fixture(scope="module", params=KUSTOMIZATIONS)
def docs(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return build(request.param)


def test_every_object_is_valid_for_the_kubernetes_api(docs: list[dict[str, Any]]) -> None:
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == ["ConfigMap", "Deployment", "Service", "Service", "StatefulSet"]
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES, strict=True)


def test_the_validator_refuses_an_unknown_field(docs: list[dict[str, Any]]) -> None:
    """The check above can fail: a misspelt field of the StatefulSet is refused."""
    broken = one(docs, "StatefulSet") | {"spec": one(docs, "StatefulSet")["spec"] | {"podManagmentPolicy": "Parallel"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_the_shards_the_service_and_the_site_agree(docs: list[dict[str, Any]]) -> None:
    config = one(docs, "ConfigMap")["data"]
    shards = one(docs, "StatefulSet")
    count = int(config["AXISIM_SHARD_COUNT"])
    assert shards["spec"]["replicas"] == count
    assert shards["spec"]["podManagementPolicy"] == "Parallel"
    headless = next(d for d in docs if d["kind"] == "Service" and d["spec"].get("clusterIP") == "None")
    assert headless["metadata"]["name"] == shards["spec"]["serviceName"]
    assert headless["spec"]["selector"].items() <= shards["spec"]["template"]["metadata"]["labels"].items()
    container = shards["spec"]["template"]["spec"]["containers"][0]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "control"}
    assert {"name": "control", "containerPort": 8079} in container["ports"]
    claim = shards["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
    assert {"name": claim, "mountPath": "/var/lib/axisim"} in container["volumeMounts"]
    site = one(docs, "Deployment", "site")["spec"]["template"]["spec"]["containers"][0]
    args = parser().parse_args(expand(site["args"], container_env(site, config, "10.0.0.9", 0)))
    assert args.command == "site" and args.shards == count
    pods = [f"{shards['metadata']['name']}-{k}" for k in range(count)]
    assert [args.shard_url.replace("{k}", str(k)) for k in range(count)] == [
        f"http://{pod}.{headless['metadata']['name']}:8079" for pod in pods
    ]  # fmt: skip
    service = next(d for d in docs if d["kind"] == "Service" and d is not headless)
    site_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= site_labels.items()


def test_each_pod_ordinal_runs_its_shard_of_the_site(
    docs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:  # fmt: skip
    config = one(docs, "ConfigMap")["data"]
    shards = one(docs, "StatefulSet")
    container = shards["spec"]["template"]["spec"]["containers"][0]
    held: list[int] = []
    for ordinal in range(shards["spec"]["replicas"]):
        env = container_env(container, config, f"10.0.0.{ordinal + 10}", ordinal)
        args = parser().parse_args(expand(container["args"], env))
        assert args.command == "fleet" and args.host == env["POD_IP"]  # devices report the pod's address
        assert args.shard is None and str(args.state_dir).startswith("/var/lib/axisim/")
        assert str(shard_from(args, env)) == f"{ordinal}/{env['AXISIM_SHARD_COUNT']}"
        for name in ("AXISIM_SHARD", "AXISIM_SHARD_INDEX", "AXISIM_SHARD_COUNT"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        plan = plan_from_args(args)
        held.extend(plan.span)
        limit = memory_mib(container["resources"]["limits"]["memory"])
        request = memory_mib(container["resources"]["requests"]["memory"])
        needed = RUNTIME_MIB + len(plan.span) * KB_PER_DEVICE / 1024
        assert needed <= request <= limit, (len(plan.span), needed, request, limit)
    assert held == list(range(int(config["AXISIM_DEVICES"])))
