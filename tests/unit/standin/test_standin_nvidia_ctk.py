# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The nvidia-ctk stand-in, pinned to NVIDIA/nvidia-container-toolkit v1.18.1 (cmd/nvidia-ctk/runtime/configure,
pkg/config/engine/docker and containerd, cmd/nvidia-ctk/cdi) and urfave/cli v3.4.1."""
import json
import os
import re
import subprocess

import pytest

from ansible_collections.gpufleet.ollama.tests.unit.standin.standin_helpers import STANDIN

NVIDIA_CTK = os.path.join(STANDIN, "nvidia-ctk")
LOG_LINE = re.compile(r'^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)" level=(info|warning|error) msg=(.*)$')


def ctk(*args, env=None, cwd=None):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("NVIDIA_CTK_", "STANDIN_"))}
    environment["PATH"] = STANDIN + os.pathsep + environment["PATH"]
    environment.update(env or {})
    return subprocess.run([NVIDIA_CTK, *args], capture_output=True, text=True, env=environment, cwd=cwd,
                          check=False)


def messages(stderr):
    """The msg= values of logrus's text lines (all lines must be logrus lines)."""
    out = []
    for line in stderr.splitlines():
        match = LOG_LINE.match(line)
        assert match, line
        out.append((match.group(2), json.loads(match.group(3)) if match.group(3).startswith('"') else match.group(3)))
    return out


def test_version():
    """urfave/cli DefaultPrintVersion with info.GetVersionString: version, then "commit: <git describe>"."""
    result = ctk("--version")
    assert (result.returncode, result.stdout) == (
        0, "NVIDIA Container Toolkit CLI version 1.18.1\ncommit: efe99418ef87500dbe059cadc9ab418b2815b9d5\n")


def test_docker_keeps_keys_adds_runtime_and_is_idempotent(tmp_path):
    """docker.go AddRuntime: every key kept, runtimes.nvidia = {args: [], path: nvidia-container-runtime},
    default-runtime with --set-as-default; Save is json.MarshalIndent(c, "", "    "): keys sorted, numbers as
    float64, no trailing newline. A second run writes the same bytes."""
    daemon = tmp_path / "daemon.json"
    daemon.write_text(json.dumps({"storage-driver": "overlay2", "log-opts": {"max-size": "100m"},
                                  "log-driver": "json-file", "registry-mirrors": ["https://mirror.example"],
                                  "max-concurrent-downloads": 3, "runtimes": {"runc-custom": {"path": "/opt/runc"}}},
                                 indent=2) + "\n")
    result = ctk("runtime", "configure", "--runtime=docker", "--config=%s" % daemon, "--set-as-default")
    assert (result.returncode, result.stdout) == (0, "")
    assert messages(result.stderr) == [("info", "Loading config from %s" % daemon),
                                       ("info", "Wrote updated config to %s" % daemon),
                                       ("info", "It is recommended that docker daemon be restarted.")]
    assert daemon.read_text() == """{
    "default-runtime": "nvidia",
    "log-driver": "json-file",
    "log-opts": {
        "max-size": "100m"
    },
    "max-concurrent-downloads": 3,
    "registry-mirrors": [
        "https://mirror.example"
    ],
    "runtimes": {
        "nvidia": {
            "args": [],
            "path": "nvidia-container-runtime"
        },
        "runc-custom": {
            "path": "/opt/runc"
        }
    },
    "storage-driver": "overlay2"
}"""
    first = daemon.read_bytes()
    again = ctk("runtime", "configure", "--runtime", "docker", "--config", str(daemon), "--set-as-default")
    assert again.returncode == 0 and daemon.read_bytes() == first


def test_docker_missing_file_default_runtime_unchanged(tmp_path):
    """A missing daemon.json is an empty config ("Config file does not exist; using empty config"); without
    --set-as-default no default-runtime is written; the directory is created."""
    daemon = tmp_path / "etc" / "docker" / "daemon.json"
    result = ctk("runtime", "configure", "--config", str(daemon))
    assert result.returncode == 0
    assert messages(result.stderr)[0] == ("info", "Config file does not exist; using empty config")
    assert json.loads(daemon.read_text()) == {"runtimes": {"nvidia": {"args": [], "path": "nvidia-container-runtime"}}}


@pytest.mark.parametrize("content, code, error", [
    (b"", 1, "unable to load config for runtime docker: EOF"),                # json.Decoder on nothing: io.EOF
    (b"  \n", 1, "unable to load config for runtime docker: EOF"),
    (b'{"a": 1,}', 1, "unable to load config for runtime docker: invalid character '}' looking for beginning "
                      "of object key string"),
    (b'{"a": 1', 1, "unable to load config for runtime docker: unexpected EOF"),
    (b"[1]", 1, "unable to load config for runtime docker: json: cannot unmarshal array into Go value of type "
                "docker.Config"),
])
def test_docker_empty_or_invalid_file_fails_unchanged(tmp_path, content, code, error):
    """option.go loadConfig decodes any existing file, so an empty one fails like invalid JSON (main.go: the
    error logged at level error, exit 1) and nothing is written."""
    daemon = tmp_path / "daemon.json"
    daemon.write_bytes(content)
    result = ctk("runtime", "configure", "--runtime=docker", "--config=%s" % daemon)
    assert result.returncode == code
    assert messages(result.stderr)[-1] == ("error", error)
    assert daemon.read_bytes() == content


def test_docker_null_panics(tmp_path):
    """JSON null decodes into a nil map, and AddRuntime assigns to it: a Go panic, exit status 2."""
    daemon = tmp_path / "daemon.json"
    daemon.write_text("null")
    result = ctk("runtime", "configure", "--config=%s" % daemon)
    assert result.returncode == 2 and "panic: assignment to entry in nil map" in result.stderr


def test_docker_dry_run_cdi_and_go_numbers(tmp_path):
    """--dry-run prints the config and a newline (raw.go) and writes nothing; --cdi.enabled replaces "features"
    (EnableCDI's map[string]bool assertion fails on decoded JSON); Go's float64 and HTML escaping."""
    daemon = tmp_path / "daemon.json"
    original = '{"features": {"buildkit": true}, "a": 1.0, "b": 1e-7, "c": 1e21, "d": "<&>"}'
    daemon.write_text(original)
    result = ctk("runtime", "configure", "--dry-run", "--config=%s" % daemon, "--cdi.enabled")
    assert result.returncode == 0 and daemon.read_text() == original
    assert result.stdout == """{
    "a": 1,
    "b": 1e-7,
    "c": 1e+21,
    "d": "\\u003c\\u0026\\u003e",
    "features": {
        "cdi": true
    },
    "runtimes": {
        "nvidia": {
            "args": [],
            "path": "nvidia-container-runtime"
        }
    }
}
"""
    assert [m for level, m in messages(result.stderr)] == ["Loading config from %s" % daemon]


def test_cli_errors():
    """urfave/cli v3: an unknown flag is "Incorrect Usage" plus help, then main.go's error line and exit 1; an
    unknown command is "No help topic for '...'" and exit 3; validateFlags errors exit 1."""
    flag = ctk("runtime", "configure", "--no-such-flag")
    assert flag.returncode == 1
    assert flag.stderr.startswith("Incorrect Usage: flag provided but not defined: -no-such-flag\n\n")
    assert messages(flag.stderr.split("\n\n", 1)[1]) == [("error", "flag provided but not defined: -no-such-flag")]
    assert "configure" in flag.stdout
    for args in (["frobnicate"], ["runtime", "frobnicate"], ["cdi", "frobnicate"]):
        result = ctk(*args)
        assert (result.returncode, result.stderr) == (3, "No help topic for 'frobnicate'\n"), args
    runtime = ctk("runtime", "configure", "--runtime=podman")
    assert runtime.returncode == 1 and messages(runtime.stderr) == [("error", "unrecognized runtime 'podman'")]
    drop_in = ctk("runtime", "configure", "--runtime=docker", "--drop-in-config=/etc/docker/x.json")
    assert messages(drop_in.stderr) == [("error", "runtime docker does not support drop-in configs")]
    missing = ctk("runtime", "configure", "--runtime")
    assert missing.returncode == 1 and missing.stderr.startswith("Incorrect Usage: flag needs an argument: --runtime")
    assert ctk("hook").returncode == 2 and ctk("runtime", "configure", "--runtime=crio").returncode == 2
    assert ctk().returncode == 0 and "runtime" in ctk().stdout


def test_containerd_new_config_writes_drop_in_and_imports(tmp_path):
    """v1.18 containerd.go New: no config.toml -> version 2; the runtime goes into the drop-in with the default
    options (no runc to copy them from: a warning); the top-level config gets `imports` and `version`
    (config_drop_in.go ensureImports); go-toml v1 layout."""
    config, drop_in = tmp_path / "containerd" / "config.toml", tmp_path / "containerd" / "conf.d" / "99-nvidia.toml"
    result = ctk("runtime", "configure", "--runtime=containerd", "--config=%s" % config,
                 "--drop-in-config=%s" % drop_in)
    assert result.returncode == 0
    assert messages(result.stderr) == [
        ("info", "Using config version 2"), ("info", 'Using CRI runtime plugin name "io.containerd.grpc.v1.cri"'),
        ("warning", "Could not infer options from runtimes [runc crun]"),
        ("info", "Wrote updated config to %s" % drop_in),
        ("info", "It is recommended that containerd daemon be restarted.")]
    assert config.read_text() == 'imports = ["%s/*.toml"]\nversion = 2\n' % drop_in.parent
    assert drop_in.read_text() == """version = 2

[plugins]

  [plugins."io.containerd.grpc.v1.cri"]

    [plugins."io.containerd.grpc.v1.cri".containerd]

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]

        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
          privileged_without_host_devices = false
          runtime_engine = ""
          runtime_root = ""
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
            BinaryName = "/usr/bin/nvidia-container-runtime"
"""


def test_containerd_existing_imports_as_upstream_test(tmp_path):
    """configure_test.go "containerd: config exists with imports": the import is appended, keys re-sorted."""
    config = tmp_path / "etc/containerd/config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('version = 2\nimports = ["/foo/bar/*.toml"]\n')
    drop_in = tmp_path / "etc/containerd/conf.d/99-nvidia.toml"
    assert ctk("runtime", "configure", "--runtime", "containerd", "--config", str(config),
               "--drop-in-config", str(drop_in)).returncode == 0
    assert config.read_text() == 'imports = ["/foo/bar/*.toml", "%s/etc/containerd/conf.d/*.toml"]\nversion = 2\n' \
        % tmp_path


def test_containerd_copies_runc_options_and_is_idempotent(tmp_path):
    """GetDefaultRuntimeOptions copies runc's section (SystemdCgroup kept, BinaryName replaced); the drop-in holds
    the whole CRI plugin section (getBaseDropInConfigTree); --set-as-default sets default_runtime_name there.
    A second run changes neither file."""
    config = tmp_path / "config.toml"
    config.write_text("""version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  BinaryName = "/usr/bin/runc"
  SystemdCgroup = true
""")
    drop_in = tmp_path / "conf.d" / "99-nvidia.toml"
    args = ["runtime", "configure", "--runtime=containerd", "--config=%s" % config, "--drop-in-config=%s" % drop_in,
            "--set-as-default"]
    assert ctk(*args).returncode == 0
    text = drop_in.read_text()
    assert '      default_runtime_name = "nvidia"\n' in text
    assert """        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
            BinaryName = "/usr/bin/nvidia-container-runtime"
            SystemdCgroup = true
""" in text
    assert '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]' in text
    top = config.read_text()
    assert top.startswith('imports = ["%s/*.toml"]\nversion = 2\n\n[plugins]\n' % drop_in.parent)
    assert 'default_runtime_name = "runc"' in top
    before = (config.read_bytes(), drop_in.read_bytes())
    assert ctk(*args).returncode == 0 and (config.read_bytes(), drop_in.read_bytes()) == before


def test_containerd_version_1_config_goes_whole_into_the_drop_in(tmp_path):
    """A config.toml with keys but no `version` is version 1 (parseVersion), which has no imports: config_v1.go
    saves the whole changed config to the output path (the drop-in) and leaves config.toml alone."""
    config = tmp_path / "config.toml"
    config.write_text('disabled_plugins = ["cri"]\n')
    drop_in = tmp_path / "conf.d" / "99-nvidia.toml"
    result = ctk("runtime", "configure", "--runtime=containerd", "--config=%s" % config,
                 "--drop-in-config=%s" % drop_in)
    assert result.returncode == 0 and ("info", "Using config version 1") in messages(result.stderr)
    assert config.read_text() == 'disabled_plugins = ["cri"]\n'
    text = drop_in.read_text()
    assert text.startswith('disabled_plugins = ["cri"]\nversion = 1\n\n[plugins]\n\n  [plugins.cri]\n')
    assert 'Runtime = "/usr/bin/nvidia-container-runtime"' in text


GPUS = {"driver_version": "550.163.01",
        "gpus": [{"name": "NVIDIA L4", "uuid": "GPU-aaaa", "memory_total_mib": 23034},
                 {"name": "NVIDIA L4", "uuid": "GPU-bbbb", "memory_total_mib": 23034}]}
SPEC = """---
cdiVersion: 0.5.0
kind: nvidia.com/gpu
devices:
    - name: "0"
      containerEdits:
        deviceNodes:
            - path: /dev/nvidia0
    - name: GPU-aaaa
      containerEdits:
        deviceNodes:
            - path: /dev/nvidia0
    - name: "1"
      containerEdits:
        deviceNodes:
            - path: /dev/nvidia1
    - name: GPU-bbbb
      containerEdits:
        deviceNodes:
            - path: /dev/nvidia1
    - name: all
      containerEdits:
        deviceNodes:
            - path: /dev/nvidia0
            - path: /dev/nvidia1
containerEdits:
    env:
        - NVIDIA_VISIBLE_DEVICES=void
    deviceNodes:
        - path: /dev/nvidia-modeset
        - path: /dev/nvidia-uvm-tools
        - path: /dev/nvidia-uvm
        - path: /dev/nvidiactl
"""


@pytest.fixture
def gpus_env(tmp_path):
    (tmp_path / "smi.json").write_text(json.dumps(GPUS))
    return {"STANDIN_NVIDIA_SMI_JSON": str(tmp_path / "smi.json")}


def test_cdi_generate_yaml(tmp_path, gpus_env):
    """Devices per GPU by index then UUID (the default --device-name-strategy=index,uuid), then "all"; written as
    the CDI package does (yaml.v3 after "---\\n", the layout of generate_test.go), mode 0644."""
    out = tmp_path / "run" / "cdi" / "nvidia.yaml"
    result = ctk("cdi", "generate", "--output=%s" % out, env=gpus_env)
    assert result.returncode == 0 and result.stdout == ""
    assert out.read_text() == SPEC and oct(out.stat().st_mode & 0o777) == "0o644"
    assert [m for level, m in messages(result.stderr)][-1] == "Generated CDI spec with version 0.5.0"
    assert os.listdir(out.parent) == ["nvidia.yaml"]


def test_cdi_generate_formats_and_names(tmp_path, gpus_env):
    """No --output: stdout; --format=json: json.Marshal; the output path from NVIDIA_CTK_CDI_OUTPUT_FILE_PATH (as
    nvidia-cdi-refresh.service sets it); an extension other than .yaml/.json gets the format's appended
    (spec.go normalizePath); type-index names gpuN."""
    assert ctk("cdi", "generate", env=gpus_env).stdout == SPEC
    spec = json.loads(ctk("cdi", "generate", "--format=json", "--device-name-strategy=type-index",
                          env=gpus_env).stdout)
    assert [d["name"] for d in spec["devices"]] == ["gpu0", "gpu1", "all"] and list(spec)[:2] == ["cdiVersion", "kind"]
    env = dict(gpus_env, NVIDIA_CTK_CDI_OUTPUT_FILE_PATH=str(tmp_path / "cdi" / "nvidia.yml"))
    assert ctk("cdi", "generate", env=env).returncode == 0
    assert os.listdir(tmp_path / "cdi") == ["nvidia.yml.yaml"]
    bad = ctk("cdi", "generate", "--format=toml", env=gpus_env)
    assert bad.returncode == 1 and messages(bad.stderr) == [("error", "invalid output format: toml")]


def test_cdi_generate_without_nvidia_smi(tmp_path):
    """No NVML (here: no nvidia-smi on PATH): the spec cannot be generated, exit 1."""
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run(["python3", NVIDIA_CTK, "cdi", "generate", "--output=%s" % (tmp_path / "x.yaml")],
                            capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 1 and "failed to initialize NVML: ERROR_LIBRARY_NOT_FOUND" in result.stderr
    assert not os.listdir(tmp_path)


def test_cdi_list(tmp_path, gpus_env):
    """list.go: "Found N CDI devices" and the qualified names, sorted (CDI cache ListDevices); only .yaml and
    .json files are read."""
    spec_dir = tmp_path / "cdi"
    assert ctk("cdi", "generate", "--output=%s" % (spec_dir / "nvidia.yaml"), env=gpus_env).returncode == 0
    (spec_dir / "notes.txt").write_text("kind: x/y\n")
    result = ctk("cdi", "list", "--spec-dir=%s" % spec_dir)
    assert result.returncode == 0
    assert result.stdout.splitlines() == ["nvidia.com/gpu=0", "nvidia.com/gpu=1", "nvidia.com/gpu=GPU-aaaa",
                                          "nvidia.com/gpu=GPU-bbbb", "nvidia.com/gpu=all"]
    assert messages(result.stderr) == [("info", "Found 5 CDI devices")]
    empty = ctk("cdi", "list", "--spec-dir=%s" % (tmp_path / "none"))
    assert (empty.returncode, empty.stdout, messages(empty.stderr)) == (0, "", [("info", "Found 0 CDI devices")])


def test_quiet_keeps_only_errors(tmp_path):
    """main.go Before: --quiet sets the error level (a root flag, usable after the subcommand too)."""
    result = ctk("runtime", "configure", "--quiet", "--config=%s" % (tmp_path / "daemon.json"))
    assert (result.returncode, result.stderr) == (0, "")
    assert ctk("--quiet", "runtime", "configure", "--config=%s" % (tmp_path / "d2.json")).stderr == ""
