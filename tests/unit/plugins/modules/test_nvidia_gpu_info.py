# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os
from unittest import mock

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.gpufleet.ollama.plugins.modules import nvidia_gpu_info

NVIDIA_SMI = '/usr/bin/nvidia-smi'
ARGV = [NVIDIA_SMI, '--query-gpu=index,uuid,name,memory.total,memory.used,driver_version',
        '--format=csv,noheader,nounits']
C_LOCALE = {'LANG': 'C', 'LC_ALL': 'C', 'LC_MESSAGES': 'C'}

TWO_GPUS = (
    '0, GPU-11111111-2222-3333-4444-555555555555, NVIDIA H100 80GB HBM3, 81559, 4, 570.124.06\n'
    '1, GPU-66666666-7777-8888-9999-000000000000, NVIDIA H100 80GB HBM3, 81559, 40123, 570.124.06\n'
)
NO_DEVICES = 'No devices were found\n'
DRIVER_FAILED = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
                 "Make sure that the latest NVIDIA driver is installed and running.\n")


@pytest.fixture
def nvidia_smi():
    """Mocks get_bin_path (found in /usr/bin) and run_command; set ``.run_command.return_value``."""
    with mock.patch.object(AnsibleModule, 'get_bin_path', autospec=True, return_value=NVIDIA_SMI) as get_bin_path, \
            mock.patch.object(AnsibleModule, 'run_command', autospec=True, return_value=(0, TWO_GPUS, '')) as run_command:
        yield mock.Mock(get_bin_path=get_bin_path, run_command=run_command)


def assert_ran_nvidia_smi(run_command, argv=None):
    run_command.assert_called_once_with(mock.ANY, argv or ARGV, environ_update=C_LOCALE, expand_user_and_vars=False)


@pytest.mark.parametrize('check_mode', [False, True])
def test_lists_gpus(run_module, nvidia_smi, check_mode):
    result = run_module(nvidia_gpu_info, {}, check_mode=check_mode)
    assert_ran_nvidia_smi(nvidia_smi.run_command)
    nvidia_smi.get_bin_path.assert_called_once_with(mock.ANY, 'nvidia-smi', opt_dirs=['/usr/bin'])
    assert result['changed'] is False
    assert result['gpu_count'] == 2
    assert result['driver_version'] == '570.124.06'
    assert result['reason'] is None
    assert result['nvidia_smi'] == NVIDIA_SMI
    assert result['gpus'] == [
        dict(index=0, uuid='GPU-11111111-2222-3333-4444-555555555555', name='NVIDIA H100 80GB HBM3',
             memory_total_mib=81559, memory_used_mib=4, driver_version='570.124.06'),
        dict(index=1, uuid='GPU-66666666-7777-8888-9999-000000000000', name='NVIDIA H100 80GB HBM3',
             memory_total_mib=81559, memory_used_mib=40123, driver_version='570.124.06'),
    ]


def test_parses_without_spaces_and_with_comma_in_name(run_module, nvidia_smi):
    nvidia_smi.run_command.return_value = (0, '3,GPU-abc,Tesla T4, rev A,15360,0,535.183.01\n', '')
    result = run_module(nvidia_gpu_info, {})
    assert result['gpus'] == [dict(index=3, uuid='GPU-abc', name='Tesla T4, rev A', memory_total_mib=15360,
                                   memory_used_mib=0, driver_version='535.183.01')]


def test_not_available_values_are_null(run_module, nvidia_smi):
    nvidia_smi.run_command.return_value = (0, '0, GPU-abc, NVIDIA GH200 480GB, [N/A], [Not Supported], [N/A]\n', '')
    result = run_module(nvidia_gpu_info, {})
    assert result['gpus'] == [dict(index=0, uuid='GPU-abc', name='NVIDIA GH200 480GB', memory_total_mib=None,
                                   memory_used_mib=None, driver_version=None)]
    assert result['driver_version'] is None
    assert result['reason'] is None


def test_nvidia_smi_not_found(run_module, nvidia_smi):
    nvidia_smi.get_bin_path.return_value = None
    result = run_module(nvidia_gpu_info, {})
    assert not result.get('failed')
    assert result['gpus'] == []
    assert result['gpu_count'] == 0
    assert result['driver_version'] is None
    assert result['reason'] == 'nvidia-smi not found'
    assert result['nvidia_smi'] is None
    nvidia_smi.run_command.assert_not_called()


def test_explicit_path_missing(run_module, nvidia_smi, tmp_path):
    path = str(tmp_path / 'nvidia-smi')
    result = run_module(nvidia_gpu_info, {'nvidia_smi_path': path})
    assert result['reason'] == 'nvidia-smi not found at %s' % path
    assert result['gpus'] == []
    nvidia_smi.get_bin_path.assert_not_called()
    nvidia_smi.run_command.assert_not_called()


def test_explicit_path_is_used(run_module, nvidia_smi, tmp_path):
    path = tmp_path / 'nvidia-smi'
    path.write_text('#!/bin/sh\n')
    os.chmod(str(path), 0o755)
    result = run_module(nvidia_gpu_info, {'nvidia_smi_path': str(path)})
    assert result['gpu_count'] == 2 and result['nvidia_smi'] == str(path)
    assert_ran_nvidia_smi(nvidia_smi.run_command, [str(path)] + ARGV[1:])
    nvidia_smi.get_bin_path.assert_not_called()


def test_no_devices_exit_6(run_module, nvidia_smi):
    nvidia_smi.run_command.return_value = (6, NO_DEVICES, '')
    result = run_module(nvidia_gpu_info, {})
    assert not result.get('failed')
    assert result['gpus'] == []
    assert result['reason'] == 'nvidia-smi reported no GPU: No devices were found'


def test_empty_output_means_no_gpu(run_module, nvidia_smi):
    nvidia_smi.run_command.return_value = (0, '\n', '')
    result = run_module(nvidia_gpu_info, {})
    assert result['gpus'] == []
    assert result['reason'] == 'nvidia-smi reported no GPU: no output'


def test_driver_failure_rc_9(run_module, nvidia_smi):
    nvidia_smi.run_command.return_value = (9, DRIVER_FAILED, '')
    result = run_module(nvidia_gpu_info, {})
    assert not result.get('failed')
    assert result['gpus'] == []
    assert result['reason'] == 'nvidia-smi failed (rc=9): ' + DRIVER_FAILED.strip()


def test_stderr_is_preferred_in_reason(run_module, nvidia_smi):
    nvidia_smi.run_command.return_value = (255, 'partial\n', 'Unable to determine the device handle\n')
    result = run_module(nvidia_gpu_info, {})
    assert result['reason'] == 'nvidia-smi failed (rc=255): Unable to determine the device handle'


@pytest.mark.parametrize('line, why', [
    ('0, GPU-abc, NVIDIA H100', 'expected 6 comma-separated fields'),
    ('garbage', 'expected 6 comma-separated fields'),
    ('0, GPU-abc, NVIDIA H100, lots, 4, 570.124.06', "memory.total 'lots' is not an integer"),
    ('x, GPU-abc, NVIDIA H100, 81559, 4, 570.124.06', "index 'x' is not an integer"),
])
def test_unparsable_line_fails_with_the_line(run_module, nvidia_smi, line, why):
    nvidia_smi.run_command.return_value = (0, TWO_GPUS + line + '\n', '')
    result = run_module(nvidia_gpu_info, {})
    assert result['failed'] is True
    assert result['msg'].startswith('cannot parse nvidia-smi output line %r: ' % line)
    assert why in result['msg']
