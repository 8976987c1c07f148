"""The Kubernetes manifests: every kustomization renders (kubectl kustomize), every object validates strictly
against the Kubernetes API schemas (kubernetes-validate --strict), and the pods meet Pod Security
"restricted", drain gracefully, and wait for the migration Job instead of migrating."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.tools import DEPLOY, project_version, run, system_tool, venv_tool

K8S = DEPLOY / "k8s"
KUSTOMIZATIONS = ["base", "migrate", "overlays/example", "overlays/example/migrate"]
KUBERNETES_VERSIONS = [
    "1.29.0",
    "1.37.0",
]  # the oldest and the newest that kubernetes-validate bundles widely
IMAGE = "ghcr.io/karolinska/ribot"


def render(kustomization: str) -> list[dict[str, Any]]:
    done = run([system_tool("kubectl"), "kustomize", str(K8S / kustomization)])
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: render(name) for name in KUSTOMIZATIONS}


def by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    matches = [obj for obj in objects if obj["kind"] == kind]
    assert len(matches) == 1, f"expected one {kind}, got {len(matches)}"
    return matches[0]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_validates_strictly(
    rendered: dict[str, list[dict[str, Any]]], tmp_path: Path, version: str
) -> None:
    files = [K8S / "secret.example.yaml"]
    for name, objects in rendered.items():
        path = tmp_path / (name.replace("/", "-") + ".yaml")
        path.write_text(yaml.safe_dump_all(objects), encoding="utf-8")
        files.append(path)
    done = run([venv_tool("kubernetes-validate"), "--strict", "-k", version, *map(str, files)])
    assert done.returncode == 0, done.stdout + done.stderr
    passed = [line for line in done.stdout.splitlines() if " passed for resource " in line]
    expected = 1 + sum(len(objects) for objects in rendered.values())
    assert len(passed) == expected, done.stdout


def test_the_validator_refuses_an_unknown_field(tmp_path: Path) -> None:
    """--strict really is strict: a misspelt field fails (so the passes above mean something)."""
    deployment = by_kind(render("base"), "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {"periodSeconds": 5}
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(deployment), encoding="utf-8")
    done = run([venv_tool("kubernetes-validate"), "--strict", str(path)])
    assert done.returncode != 0 and "livenesProbe" in done.stdout + done.stderr


def restricted_violations(spec: dict[str, Any]) -> list[str]:
    """The fields Pod Security Standards "restricted" checks (kubernetes.io/docs/concepts/security/)."""
    problems = []
    pod = spec.get("securityContext", {})
    if spec.get("hostNetwork") or spec.get("hostPID") or spec.get("hostIPC"):
        problems.append("host namespaces")
    for volume in spec.get("volumes", []):
        allowed = {"name", "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral"}
        allowed |= {"persistentVolumeClaim", "projected", "secret"}
        if set(volume) - allowed:
            problems.append(f"volume {volume['name']} is of a type restricted forbids")
    for container in spec.get("initContainers", []) + spec["containers"]:
        context = container.get("securityContext", {})
        name = container["name"]
        if context.get("privileged"):
            problems.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation must be false")
        if context.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{name}: capabilities.drop must be [ALL]")
        if set(context.get("capabilities", {}).get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: adds capabilities")
        if not (context.get("runAsNonRoot") or pod.get("runAsNonRoot")):
            problems.append(f"{name}: runAsNonRoot")
        if context.get("runAsUser", pod.get("runAsUser")) == 0:
            problems.append(f"{name}: runs as uid 0")
        seccomp = context.get("seccompProfile", pod.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: seccompProfile must be RuntimeDefault or Localhost")
        for port in container.get("ports", []):
            if "hostPort" in port:
                problems.append(f"{name}: hostPort")
    return problems


def test_pods_meet_pod_security_restricted(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for name in ("overlays/example", "overlays/example/migrate"):
        for obj in rendered[name]:
            if obj["kind"] in ("Deployment", "Job"):
                assert restricted_violations(pod_spec(obj)) == [], f"{name} {obj['kind']}"
    namespace = by_kind(rendered["overlays/example"], "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_restricted_check_catches_the_old_manifest() -> None:
    """The pod spec ribot shipped before: restricted refused it, and so does this check."""
    old = {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
        "containers": [{"name": "ribot", "image": "x"}],
    }
    assert restricted_violations(old) == [
        "ribot: allowPrivilegeEscalation must be false",
        "ribot: capabilities.drop must be [ALL]",
        "ribot: seccompProfile must be RuntimeDefault or Localhost",
    ]


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", [])}


def test_servers_drain_gracefully_and_wait_for_the_schema(rendered: dict[str, list[dict[str, Any]]]) -> None:
    deployment = by_kind(rendered["overlays/example"], "Deployment")
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    env = env_of(container)
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert spec["terminationGracePeriodSeconds"] > int(pre_stop[1]) + float(env["SHUTDOWN_TIMEOUT"])
    assert env["MIGRATE_ON_START"] == "false" and env["HOST"] == "0.0.0.0"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"]) and "memory" in container[
        "resources"
    ]["limits"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert {"/data", "/tmp"} <= mounts  # the only places a read-only root leaves writable
    assert container["envFrom"] == [{"secretRef": {"name": "ribot"}}]
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_the_migration_job_runs_ribot_migrate(rendered: dict[str, list[dict[str, Any]]]) -> None:
    job = by_kind(rendered["overlays/example/migrate"], "Job")
    (container,) = pod_spec(job)["containers"]
    assert container["command"] == ["ribot", "migrate"]
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert container["envFrom"] == [{"secretRef": {"name": "ribot"}}]
    assert job["metadata"]["namespace"] == "ribot"
    server = pod_spec(by_kind(rendered["overlays/example"], "Deployment"))["containers"][0]
    assert container["image"] == server["image"]  # one release: the Job migrates what the servers need


def test_availability_objects_select_the_servers(rendered: dict[str, list[dict[str, Any]]]) -> None:
    objects = rendered["overlays/example"]
    labels = by_kind(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    pdb = by_kind(objects, "PodDisruptionBudget")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = by_kind(objects, "Service")
    assert service["spec"]["selector"].items() <= labels.items()
    hpa = by_kind(objects, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ribot"}
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "ribot"


def test_images_are_pinned_to_the_release(rendered: dict[str, list[dict[str, Any]]]) -> None:
    version = project_version()
    for name, objects in rendered.items():
        for obj in objects:
            if obj["kind"] in ("Deployment", "Job"):
                for container in pod_spec(obj)["containers"]:
                    assert container["image"] == f"{IMAGE}:{version}", name


def test_the_example_secret_names_the_settings_the_pods_read() -> None:
    secret = yaml.safe_load((K8S / "secret.example.yaml").read_text(encoding="utf-8"))
    assert secret["metadata"]["name"] == "ribot"
    assert secret["stringData"]["DATABASE_URL"].startswith("postgresql+psycopg://")
    from bot.settings import Settings

    names = {(field.alias or name).upper() for name, field in Settings.model_fields.items()}
    assert set(secret["stringData"]) <= names
