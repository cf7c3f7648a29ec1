# -*- coding: utf-8 -*-
# Copyright (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""ollama_models_catalog: checks of every node's ollama_models, build order and staging host."""

from __future__ import annotations

import re

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.gpufleet.ollama.plugins.filter.ollama_models_catalog import ollama_models_catalog

GGUF = {'name': 'base', 'gguf': '/srv/gguf/base.gguf'}


def catalog(*pairs, **kwargs):
    """The catalog of pairs (host, [entries])."""
    return ollama_models_catalog([[host, declared] for host, declared in pairs], **kwargs)


def one(*entries, **kwargs):
    return catalog(('gpu01', list(entries)), **kwargs)


def problem_of(*entries):
    """The only problem of gpu01 declaring ``entries``."""
    result = one(*entries)
    assert len(result['problems']) == 1, result['problems']
    return result['problems'][0]


# --- defaults and the inferred source -------------------------------------------------------------------------

def test_defaults_and_inferred_sources():
    result = one({'name': 'tiny'},
                 {'name': 'base', 'gguf': '/srv/gguf/base.gguf'},
                 {'name': 'chat', 'from': 'base', 'system': 'Be brief.'},
                 {'name': 'llama3.2', 'source': 'bundle', 'state': 'present'})
    assert result['problems'] == []
    assert result['models'] == {
        'tiny:latest': {'name': 'tiny:latest', 'source': 'bundle'},
        'base:latest': {'name': 'base:latest', 'source': 'gguf', 'gguf': '/srv/gguf/base.gguf'},
        'chat:latest': {'name': 'chat:latest', 'source': 'from', 'from': 'base:latest', 'system': 'Be brief.'},
        'llama3.2:latest': {'name': 'llama3.2:latest', 'source': 'bundle'},
    }
    assert result['hosts'] == {'gpu01': {'present': ['tiny:latest', 'base:latest', 'chat:latest', 'llama3.2:latest'],
                                         'absent': []}}
    assert result['bundles'] == ['tiny:latest', 'llama3.2:latest']
    assert result['built'] == ['base:latest', 'chat:latest']
    assert result['staging_host'] == 'gpu01'


@pytest.mark.parametrize('entry, source', [
    ({'name': 'm'}, 'bundle'),
    ({'name': 'm', 'state': 'present'}, 'bundle'),
    ({'name': 'm', 'gguf': '/x.gguf'}, 'gguf'),
    ({'name': 'm', 'gguf': '/x.gguf', 'modelfile': 'PARAMETER temperature 0.2'}, 'gguf'),
    ({'name': 'm', 'from': 'tiny'}, 'from'),
    ({'name': 'm', 'from': 'tiny', 'parameters': {'temperature': 0.6}}, 'from'),
])
def test_source_is_inferred(entry, source):
    result = one({'name': 'tiny'}, entry)
    assert result['problems'] == []
    assert result['models']['m:latest']['source'] == source


def test_empty_and_null_declarations():
    result = catalog(('gpu01', None), ('gpu02', []))
    assert result == {'problems': [], 'models': {}, 'hosts': {'gpu01': {'present': [], 'absent': []},
                                                              'gpu02': {'present': [], 'absent': []}},
                      'bundles': [], 'built': [], 'staging_host': ''}


def test_not_pairs_raises():
    with pytest.raises(AnsibleFilterError, match='pairs'):
        ollama_models_catalog({'gpu01': []})


# --- names ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name, normal', [
    ('tiny', 'tiny:latest'),
    ('  tiny ', 'tiny:latest'),
    ('qwen2:7b', 'qwen2:7b'),
    ('llama3.2', 'llama3.2:latest'),
    ('library/qwen2:7b', 'qwen2:7b'),
    ('registry.ollama.ai/library/qwen2', 'qwen2:latest'),
    ('myorg/foo', 'myorg/foo:latest'),
    ('ghcr.io:5000/my-org/m_1:v1.2-q4', 'ghcr.io:5000/my-org/m_1:v1.2-q4'),
    ('_x', '_x:latest'),
    ('a' * 80, 'a' * 80 + ':latest'),                      # the longest part
    ('m:' + 't' * 80, 'm:' + 't' * 80),
])
def test_names_are_normalised(name, normal):
    result = one({'name': name})
    assert result['problems'] == []
    assert list(result['models']) == [normal]
    assert result['hosts']['gpu01']['present'] == [normal]
    assert result['bundles'] == [normal]


@pytest.mark.parametrize('name, why', [
    ('', 'a model name must be a non-empty string'),
    ('   ', 'a model name must be a non-empty string'),
    (None, 'a model name must be a non-empty string'),
    (7, 'a model name must be a non-empty string'),
    ('bad name', "the model 'bad name' is not valid"),
    ('qwen!2', "the model 'qwen!2' is not valid"),
    ('-tiny', "the model '-tiny' is not valid"),
    ('.tiny', "the model '.tiny' is not valid"),
    (':7b', "the model '' is not valid"),
    ('tiny:', "the tag '' is not valid"),
    ('tiny:7b!', "the tag '7b!' is not valid"),
    ('a:b:c', "the model 'a:b' is not valid"),
    ('a' * 81, "the model '%s' is not valid" % ('a' * 81)),
    ('m:' + 't' * 81, "the tag '%s' is not valid" % ('t' * 81)),
    ('my.org/m', "the namespace 'my.org' is not valid"),
    ('n' * 81 + '/m', "the namespace '%s' is not valid" % ('n' * 81)),
    ('h!/ns/m', "the host 'h!' is not valid"),
    ('a/b/c/d', 'too many / separated parts'),
    ('a//b', "the namespace '' is not valid"),
])
def test_invalid_names(name, why):
    result = one({'name': 'tiny'}, {'name': name})
    assert len(result['problems']) == 1
    text = result['problems'][0]
    assert text.startswith('gpu01: ollama_models[1].name: %r is not a model name: ' % (name,))
    assert why in text
    assert list(result['models']) == ['tiny:latest']      # the bad entry is left out
    assert result['hosts']['gpu01'] == {'present': ['tiny:latest'], 'absent': []}


@pytest.mark.parametrize('name', ['my.org/m', 'bad name'])
def test_name_message_gives_the_rules_and_no_dot_in_the_namespace(name):
    text = problem_of({'name': name})
    assert 'a name is [host/][namespace/]model[:tag]' in text
    assert 'holds only letters, digits, _, - and . (no . in the namespace)' in text


# --- entry checks ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize('entry, text', [
    ({'name': 'tiny', 'gguf_path': '/x'},
     'gpu01: ollama_models[0] (tiny:latest): unknown key(s) gguf_path for source bundle (valid: name, source, state).'),
    ({'name': 'tiny', 'source': 'bundle', 'gguf': '/x', 'tag': 'x'},
     'gpu01: ollama_models[0] (tiny:latest): unknown key(s) gguf, tag for source bundle (valid: name, source, state).'),
    ({'name': 'g', 'gguf': '/x.gguf', 'template': 'T'},
     'gpu01: ollama_models[0] (g:latest): unknown key(s) template for source gguf '
     '(valid: gguf, modelfile, name, source, state).'),
    ({'name': 'd', 'from': 'tiny', 'modelfile': 'SYSTEM x'},
     'gpu01: ollama_models[0] (d:latest): unknown key(s) modelfile for source from '
     '(valid: from, license, messages, name, parameters, source, state, system, template).'),
    ({'name': 'tiny', 'state': 'removed'},
     "gpu01: ollama_models[0] (tiny:latest).state: 'removed' is not valid (valid: present, absent)."),
    ({'name': 'tiny', 'state': True},
     'gpu01: ollama_models[0] (tiny:latest).state: True is not valid (valid: present, absent).'),
    ({'name': 'tiny', 'source': 'http'},
     "gpu01: ollama_models[0] (tiny:latest).source: 'http' is not a source (valid: bundle, gguf, from)."),
    ({'name': 'g', 'source': 'gguf'},
     'gpu01: ollama_models[0] (g:latest).gguf: give the path of the GGUF file on the controller, got None.'),
    ({'name': 'g', 'gguf': '  '},
     "gpu01: ollama_models[0] (g:latest).gguf: give the path of the GGUF file on the controller, got '  '."),
    ({'name': 'g', 'gguf': 5},
     'gpu01: ollama_models[0] (g:latest).gguf: give the path of the GGUF file on the controller, got 5.'),
    ({'name': 'g', 'gguf': '/x.gguf', 'modelfile': ['SYSTEM x']},
     "gpu01: ollama_models[0] (g:latest).modelfile: give Modelfile lines as one string, got ['SYSTEM x']."),
    ({'name': 'd', 'from': 'bad name!'},
     "gpu01: ollama_models[0] (d:latest).from: 'bad name!' is not a model name: invalid model name 'bad name!': "
     "the model 'bad name!' is not valid; "),
    ({'name': 'd', 'from': 'my.org/m'},
     "gpu01: ollama_models[0] (d:latest).from: 'my.org/m' is not a model name: invalid model name 'my.org/m': "
     "the namespace 'my.org' is not valid; "),
    ({'name': 'd', 'from': 5},
     'gpu01: ollama_models[0] (d:latest).from: 5 is not a model name: it is not a string.'),
    ({'name': 'd', 'source': 'from'},
     'gpu01: ollama_models[0] (d:latest).from: None is not a model name: it is not a string.'),
    ({'name': 'd', 'from': 'tiny', 'parameters': ['temperature', 0.6]},
     "gpu01: ollama_models[0] (d:latest).parameters: give a mapping such as {temperature: 0.6}, "
     "got ['temperature', 0.6]."),
    ({'name': 'd', 'from': 'tiny', 'messages': 'hello'},
     "gpu01: ollama_models[0] (d:latest).messages: give a list of {role, content} mappings, got 'hello'."),
    ({'name': 'd', 'from': 'tiny', 'messages': [{'role': 'user'}]},
     "gpu01: ollama_models[0] (d:latest).messages: give a list of {role, content} mappings, got [{'role': 'user'}]."),
    ({'name': 'd', 'from': 'tiny', 'messages': [{'role': 'user', 'content': 'hi', 'name': 'x'}]},
     'gpu01: ollama_models[0] (d:latest).messages: give a list of {role, content} mappings'),
    ({'name': 'd', 'from': 'tiny', 'messages': ['user: hi']},
     'gpu01: ollama_models[0] (d:latest).messages: give a list of {role, content} mappings'),
    ({'name': 'd', 'from': 'tiny', 'template': ['{{ .Prompt }}']},
     "gpu01: ollama_models[0] (d:latest).template: give a string, got ['{{ .Prompt }}']."),
    ({'name': 'd', 'from': 'tiny', 'system': 1},
     'gpu01: ollama_models[0] (d:latest).system: give a string, got 1.'),
])
def test_entry_problems(entry, text):
    result = one(entry)
    assert len(result['problems']) == 1, result['problems']
    assert result['problems'][0].startswith(text)
    assert result['models'] == {}                      # a bad entry is never part of the catalog
    assert result['hosts']['gpu01'] == {'present': [], 'absent': []}


def test_several_problems_of_one_entry():
    result = one({'name': 'g', 'source': 'gguf', 'state': 'gone', 'template': 'x'})
    assert [p.split(': ', 2)[1] for p in result['problems']] == [
        'ollama_models[0] (g:latest).state', 'ollama_models[0] (g:latest)', 'ollama_models[0] (g:latest).gguf']


@pytest.mark.parametrize('modelfile', [
    'FROM ./base.gguf',
    'PARAMETER temperature 0.6\nFROM /srv/gguf/base.gguf\n',
    '  from ./base.gguf',
    'From base',
    'FROM\t./base.gguf',                                  # a tab separates the value too (parser.go)
    'SYSTEM x\n\nFROM ./base.gguf',
])
def test_modelfile_with_a_from_line(modelfile):
    assert problem_of({'name': 'g', 'gguf': '/x.gguf', 'modelfile': modelfile}) == (
        'gpu01: ollama_models[0] (g:latest).modelfile: has a FROM line; the weights come from gguf, leave FROM out.')


@pytest.mark.parametrize('modelfile', [
    '',
    'PARAMETER temperature 0.6\nPARAMETER stop "<|im_end|>"',
    'TEMPLATE "{{ .Prompt }}"\nSYSTEM You are helpful.\nLICENSE MIT',
    'SYSTEM Answer questions from users.',
    'MESSAGE user hello\nMESSAGE assistant hi',
    'PARAMETER\ttemperature 0.6\n# FROM ./base.gguf (a comment)',
    'SYSTEM """\nFrom now on you are a pirate.\n"""',       # a line of a quoted value is no command
])
def test_modelfile_without_a_from_line(modelfile):
    result = one({'name': 'g', 'gguf': '/x.gguf', 'modelfile': modelfile})
    assert result['problems'] == []
    assert result['models']['g:latest']['modelfile'] == modelfile


def test_modelfile_from_line_with_a_tab():
    assert 'has a FROM line' in problem_of({'name': 'g', 'gguf': '/x.gguf', 'modelfile': 'FROM\t./base.gguf'})


def test_modelfile_from_inside_a_quoted_value():
    result = one({'name': 'g', 'gguf': '/x.gguf', 'modelfile': 'SYSTEM """\nFrom now on you are a pirate.\n"""'})
    assert result['problems'] == []
    assert result['built'] == ['g:latest']


@pytest.mark.parametrize('modelfile, why', [
    ('FROM', "FROM needs a value: 'FROM'"),
    ('FROMAGE is not a command', "not a Modelfile command; valid commands are "),
    ('SYSTEM', "SYSTEM needs a value: 'SYSTEM'"),
    ('PARAMETER temperature', "PARAMETER needs a name and a value: 'PARAMETER temperature'"),
    ('MESSAGE bot hi', "message role must be one of system, user, assistant: 'MESSAGE bot hi'"),
    ('SYSTEM """\nunclosed', 'the quoted value that starts here is never closed: \'SYSTEM """\''),
])
def test_modelfile_syntax_error(modelfile, why):
    result = one({'name': 'tiny'}, {'name': 'g', 'gguf': '/x.gguf', 'modelfile': modelfile})
    assert len(result['problems']) == 1, result['problems']
    text = result['problems'][0]
    assert text.startswith('gpu01: ollama_models[1] (g:latest).modelfile: Modelfile in ollama_models line ')
    assert why in text
    assert list(result['models']) == ['tiny:latest']      # the bad entry is left out
    assert result['built'] == []


def test_modelfile_syntax_error_names_the_line_given():
    text = problem_of({'name': 'g', 'gguf': '/x.gguf', 'modelfile': 'PARAMETER top_k 1\nFROMAGE x'})
    assert 'Modelfile in ollama_models line 2: ' in text


@pytest.mark.parametrize('entry', [
    {'name': 'd', 'from': 'tiny', 'parameters': {}, 'messages': []},
    {'name': 'd', 'from': 'tiny', 'messages': [{'role': 'user', 'content': 'hi'}, {'role': 'assistant', 'content': 'yo'}]},
    {'name': 'd', 'from': 'tiny', 'license': 'MIT', 'template': '{{ .Prompt }}', 'system': ''},
    {'name': 'd', 'from': 'library/tiny:latest'},
    {'name': 'd', 'source': 'from', 'from': 'registry.ollama.ai/library/tiny'},
])
def test_valid_from_entries(entry):
    result = one({'name': 'tiny'}, entry)
    assert result['problems'] == []
    assert result['models']['d:latest']['from'] == 'tiny:latest'
    assert result['built'] == ['d:latest']


def test_license_string_becomes_a_list():
    result = one({'name': 'tiny'}, {'name': 'd', 'from': 'tiny', 'license': 'MIT'})
    assert result['models']['d:latest']['license'] == ['MIT']


def test_declarations_that_are_not_lists_or_mappings():
    result = catalog(('gpu01', 'tiny'), ('gpu02', [{'name': 'tiny'}, 'qwen2:7b', None]))
    assert result['problems'] == [
        "gpu01: ollama_models must be a list of mappings, got 'tiny'.",
        "gpu02: ollama_models[1]: must be a mapping with at least a name, got 'qwen2:7b'.",
        'gpu02: ollama_models[2]: must be a mapping with at least a name, got None.',
    ]
    assert result['hosts'] == {'gpu01': {'present': [], 'absent': []},
                               'gpu02': {'present': ['tiny:latest'], 'absent': []}}


def test_every_entry_problem_names_the_host_and_the_index():
    result = catalog(
        ('gpu01', [{'name': 'tiny'}, {'name': 'bad name'}, {'name': 'x', 'state': 'gone'}]),
        ('gpu02', [{'name': 'tiny'}, {'name': 'tiny'}, {'name': 'tiny'}, {'name': 'g', 'source': 'gguf'},
                   {'name': 'd', 'from': 5}, {'name': 'tiny', 'foo': 1}, 3]),
    )
    expected = [('gpu01', 1), ('gpu01', 2), ('gpu02', 1), ('gpu02', 2), ('gpu02', 3), ('gpu02', 4), ('gpu02', 5),
                ('gpu02', 6)]
    assert len(result['problems']) == len(expected)
    for text, (host, index) in zip(result['problems'], expected):
        assert re.match(r'^%s: ollama_models\[%d\][ .:]' % (host, index), text), text


# --- present and absent ---------------------------------------------------------------------------------------

def test_absent_entries_per_host():
    result = catalog(
        ('gpu01', [{'name': 'tiny'}, {'name': 'old', 'state': 'absent'}, {'name': 'older:v1', 'state': 'absent'}]),
        ('gpu02', [{'name': 'tiny'}, {'name': 'old', 'state': 'absent', 'from': 'gone'}]),
        ('gpu03', [{'name': 'old'}]),
    )
    assert result['problems'] == []
    assert result['hosts'] == {
        'gpu01': {'present': ['tiny:latest'], 'absent': ['old:latest', 'older:v1']},
        'gpu02': {'present': ['tiny:latest'], 'absent': ['old:latest']},
        'gpu03': {'present': ['old:latest'], 'absent': []},
    }
    assert set(result['models']) == {'tiny:latest', 'old:latest'}
    assert result['models']['old:latest']['source'] == 'bundle'    # an absent entry defines nothing
    assert result['built'] == []


@pytest.mark.parametrize('declared, kept', [
    ([{'name': 'tiny'}, {'name': 'tiny:latest', 'state': 'absent'}], {'present': ['tiny:latest'], 'absent': []}),
    ([{'name': 'tiny', 'state': 'absent'}, {'name': 'library/tiny'}], {'present': [], 'absent': ['tiny:latest']}),
])
def test_present_and_absent_on_one_host(declared, kept):
    result = one(*declared)
    assert result['problems'] == [
        'gpu01: ollama_models[1] (tiny:latest): tiny:latest is declared twice on this host (also ollama_models[0]); '
        'keep one entry.']
    assert result['hosts']['gpu01'] == kept                  # the first entry counts, the second is left out


# --- one definition per model ---------------------------------------------------------------------------------

@pytest.mark.parametrize('first, second', [
    ({'name': 'g', 'gguf': '/a.gguf'}, {'name': 'g', 'gguf': '/b.gguf'}),
    ({'name': 'g', 'gguf': '/a.gguf'}, {'name': 'g', 'gguf': '/a.gguf', 'modelfile': 'PARAMETER top_k 1'}),
    ({'name': 'g', 'gguf': '/a.gguf'}, {'name': 'g'}),
    ({'name': 'g', 'from': 'tiny'}, {'name': 'g', 'from': 'tiny', 'system': 'x'}),
    ({'name': 'g', 'from': 'tiny', 'parameters': {'top_k': 1}}, {'name': 'g', 'from': 'tiny', 'parameters': {'top_k': 2}}),
])
def test_same_model_declared_differently(first, second):
    result = catalog(('gpu01', [{'name': 'tiny'}, first]), ('gpu02', [{'name': 'tiny'}, second]))
    assert len(result['problems']) == 1
    text = result['problems'][0]
    assert text.startswith('gpu02: ollama_models[1] (g:latest): declared differently on gpu01 (')
    assert 'every host must declare it the same way' in text
    kept = dict(result['models']['g:latest'])                  # the first host's definition is kept
    del kept['source']
    assert kept == dict(first, name='g:latest', **({'from': 'tiny:latest'} if 'from' in first else {}))


@pytest.mark.parametrize('first, second', [
    ({'name': 'g', 'gguf': '/a.gguf'}, {'name': 'g:latest', 'source': 'gguf', 'gguf': '/a.gguf', 'state': 'present'}),
    ({'name': 'd', 'from': 'tiny'}, {'name': 'library/d', 'from': 'tiny:latest'}),
    ({'name': 'd', 'from': 'tiny', 'license': 'MIT'}, {'name': 'd', 'from': 'tiny', 'license': ['MIT']}),
    ({'name': 'tiny'}, {'name': 'tiny', 'source': 'bundle'}),
])
def test_same_model_declared_alike(first, second):
    tiny = [] if first['name'] == 'tiny' else [{'name': 'tiny'}]
    result = catalog(('gpu01', tiny + [first]), ('gpu02', tiny + [second]))
    assert result['problems'] == []
    assert len(result['models']) == len(tiny) + 1


@pytest.mark.parametrize('second', [
    {'name': 'g', 'gguf': '/b.gguf'},                           # differently
    {'name': 'g', 'gguf': '/a.gguf'},                           # alike
    {'name': 'library/g:latest', 'source': 'gguf', 'gguf': '/a.gguf'},
    {'name': 'g', 'from': 'tiny'},
])
def test_the_same_model_twice_on_one_host(second):
    result = one({'name': 'g', 'gguf': '/a.gguf'}, {'name': 'tiny'}, second)
    assert result['problems'] == [
        'gpu01: ollama_models[2] (g:latest): g:latest is declared twice on this host (also ollama_models[0]); '
        'keep one entry.']
    assert result['models']['g:latest'] == {'name': 'g:latest', 'source': 'gguf', 'gguf': '/a.gguf'}
    assert result['hosts']['gpu01'] == {'present': ['g:latest', 'tiny:latest'], 'absent': []}


# --- parents --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('declared', [
    [{'name': 'd', 'from': 'base'}],
    [{'name': 'd', 'from': 'base'}, {'name': 'base', 'state': 'absent'}],
    [{'name': 'd', 'from': 'base:7b'}, {'name': 'base'}],                     # another tag
])
def test_parent_that_nobody_declares(declared):
    result = catalog(('gpu01', [{'name': 'tiny'}]), ('gpu02', declared))
    parent = declared[0]['from'] if ':' in declared[0]['from'] else declared[0]['from'] + ':latest'
    assert result['problems'] == [
        'gpu02: ollama_models[0] (d:latest) is derived from %s, which no GPU node declares; declare the parent too '
        '(it is placed first and its weights are shared).' % parent]


def test_parent_that_nobody_declares_names_the_first_declaration():
    result = catalog(('gpu01', [{'name': 'tiny'}]), ('gpu02', [{'name': 'tiny'}, {'name': 'd', 'from': 'base'}]),
                     ('gpu03', [{'name': 'd', 'from': 'base'}]))
    assert result['problems'] == [
        'gpu02: ollama_models[1] (d:latest) is derived from base:latest, which no GPU node declares; declare the '
        'parent too (it is placed first and its weights are shared).']


def test_parent_declared_on_another_host_is_no_orphan():
    result = catalog(('gpu01', [{'name': 'base'}]), ('gpu02', [{'name': 'd', 'from': 'base'}]))
    assert result['built'] == ['d:latest']
    # not an orphan; but the staging host must declare the parent too, and no node declares both
    assert result['problems'] == [
        'ollama_models: no GPU node declares every built model (base:latest, d:latest) and its parents; set '
        'ollama_models_staging_host to a node that does.']
    assert result['staging_host'] == ''


@pytest.mark.parametrize('declared, circle', [
    ([{'name': 'a', 'from': 'b'}, {'name': 'b', 'from': 'a'}], 'a:latest -> b:latest -> a:latest'),
    ([{'name': 'b', 'from': 'a'}, {'name': 'a', 'from': 'b'}], 'b:latest -> a:latest -> b:latest'),
    ([{'name': 'a', 'from': 'a'}], 'a:latest -> a:latest'),
    ([{'name': 'a', 'from': 'b'}, {'name': 'b', 'from': 'c'}, {'name': 'c', 'from': 'a'}],
     'a:latest -> b:latest -> c:latest -> a:latest'),
])
def test_cycle(declared, circle):
    result = one(*declared)
    assert result['problems'] == ['ollama_models: the models derive from each other in a circle: %s.' % circle]
    assert result['built'] == []
    assert result['staging_host'] == ''


@pytest.mark.parametrize('declared, built', [
    # gguf -> from -> from, declared children first
    ([{'name': 'c2', 'from': 'c1'}, {'name': 'c1', 'from': 'base'}, GGUF],
     ['base:latest', 'c1:latest', 'c2:latest']),
    ([{'name': 'c1', 'from': 'base'}, GGUF, {'name': 'c2', 'from': 'c1'}],
     ['base:latest', 'c1:latest', 'c2:latest']),
    ([GGUF, {'name': 'c1', 'from': 'base'}, {'name': 'c2', 'from': 'c1'}],
     ['base:latest', 'c1:latest', 'c2:latest']),
    # a bundle parent is placed, not built
    ([{'name': 'c1', 'from': 'tiny'}, {'name': 'tiny'}], ['c1:latest']),
    # two chains: each parent before its children, otherwise the declaration order
    ([{'name': 'x2', 'from': 'x1'}, {'name': 'y', 'gguf': '/y.gguf'}, {'name': 'x1', 'gguf': '/x.gguf'},
      {'name': 'y2', 'from': 'y'}],
     ['x1:latest', 'x2:latest', 'y:latest', 'y2:latest']),
])
def test_build_order_parents_first(declared, built):
    result = one(*declared)
    assert result['problems'] == []
    assert result['built'] == built
    for index, name in enumerate(built):
        parent = result['models'][name].get('from')
        if parent in built:
            assert built.index(parent) < index


# --- staging host ---------------------------------------------------------------------------------------------

TINY, BASE, CHAT = {'name': 'tiny'}, GGUF, {'name': 'chat', 'from': 'tiny'}


@pytest.mark.parametrize('pairs, staging', [
    ([('gpu01', [TINY]), ('gpu02', [TINY, BASE, CHAT]), ('gpu03', [TINY, BASE, CHAT])], 'gpu02'),
    ([('gpu01', [TINY, BASE]), ('gpu02', [BASE, CHAT]), ('gpu03', [CHAT, BASE, TINY])], 'gpu03'),   # needs the parent
    ([('gpu01', [TINY, CHAT]), ('gpu02', [BASE])], ''),
    ([('gpu01', [TINY]), ('gpu02', [TINY])], ''),                                                   # nothing built
])
def test_staging_host_is_chosen(pairs, staging):
    result = catalog(*pairs)
    assert result['staging_host'] == staging
    if staging or not result['built']:
        assert result['problems'] == []
    else:
        assert result['problems'] == [
            'ollama_models: no GPU node declares every built model (base:latest, chat:latest, tiny:latest) and its '
            'parents; set ollama_models_staging_host to a node that does.']


def test_explicit_staging_host():
    pairs = [('gpu01', [TINY, BASE, CHAT]), ('gpu02', [TINY, BASE, CHAT])]
    result = catalog(*pairs, staging_host='gpu02')
    assert result['problems'] == []
    assert result['staging_host'] == 'gpu02'


def test_explicit_staging_host_not_in_the_play():
    result = catalog(('gpu01', [TINY, BASE]), ('gpu02', [TINY]), staging_host='gpu09')
    assert result['problems'] == [
        "ollama_models_staging_host: 'gpu09' is not a GPU node of this play (valid: gpu01, gpu02)."]


def test_explicit_staging_host_that_does_not_declare_everything():
    result = catalog(('gpu01', [TINY, BASE, CHAT]), ('gpu02', [BASE]), staging_host='gpu02')
    assert result['problems'] == [
        'ollama_models_staging_host: gpu02 does not declare chat:latest, tiny:latest; the staging host must declare '
        'every built model and its parents.']


def test_explicit_staging_host_without_builds_is_ignored():
    result = catalog(('gpu01', [TINY]), staging_host='gpu09')
    assert result['problems'] == []
    assert result['staging_host'] == ''


# --- only -----------------------------------------------------------------------------------------------------

CHAIN = [{'name': 'tiny'}, {'name': 'c2', 'from': 'c1'}, {'name': 'other', 'gguf': '/o.gguf'},
         {'name': 'c1', 'from': 'base'}, GGUF, {'name': 'old', 'state': 'absent'}]


@pytest.mark.parametrize('only, models, built, bundles', [
    (['c2'], ['c2:latest', 'c1:latest', 'base:latest'], ['base:latest', 'c1:latest', 'c2:latest'], []),
    (['c1:latest'], ['c1:latest', 'base:latest'], ['base:latest', 'c1:latest'], []),
    (['tiny'], ['tiny:latest'], [], ['tiny:latest']),
    (['library/tiny', 'other'], ['tiny:latest', 'other:latest'], ['other:latest'], ['tiny:latest']),
    ([], ['tiny:latest', 'c2:latest', 'other:latest', 'c1:latest', 'base:latest'],
     ['base:latest', 'c1:latest', 'c2:latest', 'other:latest'], ['tiny:latest']),
])
def test_only_restricts_to_the_models_and_their_parents(only, models, built, bundles):
    result = catalog(('gpu01', CHAIN), ('gpu02', [{'name': 'tiny'}]), only=only)
    assert result['problems'] == []
    assert sorted(result['models']) == sorted(models)
    assert result['built'] == built
    assert result['bundles'] == bundles
    order = ['tiny:latest', 'c2:latest', 'other:latest', 'c1:latest', 'base:latest']
    assert result['hosts']['gpu01']['present'] == [n for n in order if n in models]
    assert result['hosts']['gpu02']['present'] == (['tiny:latest'] if 'tiny:latest' in models else [])
    assert result['hosts']['gpu01']['absent'] == ([] if only else ['old:latest'])
    assert result['staging_host'] == ('gpu01' if built else '')


def test_only_with_an_undeclared_name_is_a_bundle_of_every_host():
    result = catalog(('gpu01', [{'name': 'tiny'}]), ('gpu02', []), only=['newmodel:7b', 'tiny'])
    assert result['problems'] == []
    assert result['models'] == {'tiny:latest': {'name': 'tiny:latest', 'source': 'bundle'},
                                'newmodel:7b': {'name': 'newmodel:7b', 'source': 'bundle'}}
    assert result['hosts'] == {'gpu01': {'present': ['tiny:latest', 'newmodel:7b'], 'absent': []},
                               'gpu02': {'present': ['newmodel:7b'], 'absent': []}}
    assert result['bundles'] == ['tiny:latest', 'newmodel:7b']
    assert result['built'] == []


@pytest.mark.parametrize('name, why', [
    ('bad name', "invalid model name 'bad name': the model 'bad name' is not valid; a name is "),
    ('', 'a model name must be a non-empty string.'),
    (None, 'a model name must be a non-empty string.'),
    ('my.org/m', "invalid model name 'my.org/m': the namespace 'my.org' is not valid; a name is "),
])
def test_only_with_an_invalid_name(name, why):
    result = catalog(('gpu01', [{'name': 'tiny'}]), only=[name, 'tiny'])
    assert len(result['problems']) == 1, result['problems']
    assert result['problems'][0].startswith('model (the models to roll out): %r is not a model name: %s' % (name, why))
    assert list(result['models']) == ['tiny:latest']       # the bad name is never a bundle model
    assert result['hosts']['gpu01'] == {'present': ['tiny:latest'], 'absent': []}


def test_only_with_a_model_declared_absent():
    result = catalog(('gpu01', [{'name': 'tiny'}, {'name': 'old', 'state': 'absent'}]), ('gpu02', []), only=['old'])
    assert result['problems'] == []
    assert result['hosts'] == {'gpu01': {'present': [], 'absent': []},
                               'gpu02': {'present': ['old:latest'], 'absent': []}}
    assert result['bundles'] == ['old:latest']


def test_only_keeps_the_orphan_check():
    result = one({'name': 'd', 'from': 'base'}, {'name': 'tiny'}, only=['d'])
    assert result['problems'] == [
        'gpu01: ollama_models[0] (d:latest) is derived from base:latest, which no GPU node declares; declare the '
        'parent too (it is placed first and its weights are shared).']


# --- case-insensitive identity (Ollama compares names case-insensitively) -------------------------------------

def test_names_differing_in_case_are_one_model():
    result = catalog(('gpu01', [{'name': 'Qwen2:7b'}]),
                     ('gpu02', [{'name': 'qwen2:7b'}, {'name': 'd', 'from': 'QWEN2:7B'}]),
                     ('gpu03', [{'name': 'library/qwen2:7B', 'state': 'absent'}]))
    assert result['problems'] == []
    assert result['models'] == {'Qwen2:7b': {'name': 'Qwen2:7b', 'source': 'bundle'},       # the first spelling wins
                                'd:latest': {'name': 'd:latest', 'source': 'from', 'from': 'Qwen2:7b'}}
    assert result['hosts'] == {'gpu01': {'present': ['Qwen2:7b'], 'absent': []},
                               'gpu02': {'present': ['Qwen2:7b', 'd:latest'], 'absent': []},
                               'gpu03': {'present': [], 'absent': ['Qwen2:7b']}}
    assert result['bundles'] == ['Qwen2:7b']
    assert result['built'] == ['d:latest']
    assert result['staging_host'] == 'gpu02'


def test_names_differing_in_case_on_one_host_are_declared_twice():
    result = one({'name': 'Qwen2:7b'}, {'name': 'qwen2:7b'})
    assert result['problems'] == [
        'gpu01: ollama_models[1] (Qwen2:7b): Qwen2:7b is declared twice on this host (also ollama_models[0]); '
        'keep one entry.']
    assert result['hosts']['gpu01'] == {'present': ['Qwen2:7b'], 'absent': []}


def test_only_matches_names_case_insensitively():
    result = catalog(('gpu01', [{'name': 'tiny'}, {'name': 'Qwen2:7b'}]), ('gpu02', [{'name': 'qwen2:7b'}]),
                     only=['QWEN2:7b'])
    assert result['problems'] == []
    assert list(result['models']) == ['Qwen2:7b']
    assert result['hosts'] == {'gpu01': {'present': ['Qwen2:7b'], 'absent': []},
                               'gpu02': {'present': ['Qwen2:7b'], 'absent': []}}


def test_parent_in_another_case_is_no_orphan():
    result = one({'name': 'base', 'gguf': '/b.gguf'}, {'name': 'd', 'from': 'BASE'})
    assert result['problems'] == []
    assert result['built'] == ['base:latest', 'd:latest']
    assert result['models']['d:latest']['from'] == 'base:latest'


def test_parent_in_another_case_on_another_host_is_declared_alike():
    result = catalog(('gpu01', [{'name': 'Tiny'}, {'name': 'd', 'from': 'Tiny'}]),
                     ('gpu02', [{'name': 'tiny'}, {'name': 'd', 'from': 'tiny'}]))
    assert result['problems'] == []


def test_only_with_an_undeclared_name_in_two_spellings():
    result = catalog(('gpu01', [{'name': 'tiny'}]), only=['New', 'new'])
    assert list(result['models']) == ['New:latest']
