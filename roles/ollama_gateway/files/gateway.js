// gpufleet.ollama gateway: API keys, model-aware routing and merged model lists for nginx's njs
// (Debian's libnginx-mod-http-js; written for njs 0.7.9, Debian 12, and newer).
// Managed by the ollama_gateway role. The configuration it reads (gwconf) is the JSON document the
// role renders from the inventory with the ollama_gateway_config filter: API keys only as sha256
// hashes, model -> upstream pool, and the backends whose model lists are merged.
// njs notes: preloaded objects are frozen and have no prototype (Array.prototype.* .call);
// r.requestText needs the body in one memory buffer (client_body_in_single_buffer on).

var crypto = require('crypto');

var INFERENCE = {
    '/api/generate': 1, '/api/chat': 1, '/api/embed': 1, '/api/embeddings': 1,
    '/v1/chat/completions': 1, '/v1/completions': 1, '/v1/embeddings': 1
};

function isOpenAI(r) {
    return r.uri.indexOf('/v1/') === 0;
}

// An error in the API's own format: {"error": "..."} on /api, the OpenAI error object on /v1.
function fail(r, status, message, type) {
    var body;
    if (isOpenAI(r)) {
        body = {error: {message: message, type: type || 'invalid_request_error', param: null, code: null}};
    } else {
        body = {error: message};
    }
    r.headersOut['Content-Type'] = 'application/json';
    r.return(status, JSON.stringify(body) + '\n');
}

function key(r) {
    if (!gwconf.auth) {
        return {name: 'anonymous', models: null, admin: false};
    }
    var m = (r.headersIn['Authorization'] || '').match(/^Bearer\s+(\S+)\s*$/i);
    if (!m) {
        return null;
    }
    var digest = crypto.createHash('sha256').update(m[1]).digest('hex');
    return gwconf.keys[digest] || null;
}

// js_set $gw_key_name: the name of the caller's key, '' when there is none (headers only, so
// limit_req can use it in the preaccess phase and the access log records it).
function keyName(r) {
    var k = key(r);
    return k ? k.name : '';
}

// js_set $gw_key_admin: '1' for an admin key, '' otherwise.
function keyAdmin(r) {
    var k = key(r);
    return k && k.admin ? '1' : '';
}

// The name Ollama resolves: lower case, ':latest' when no tag, default registry/namespace dropped
// (the same as normalize_model() in plugins/filter/ollama_gateway_config.py).
function normalize(name) {
    var parts = String(name).trim().toLowerCase().split('/');
    var last = parts.length - 1;
    if (parts[last].indexOf(':') < 0) {
        parts[last] += ':latest';
    }
    if (parts.length === 3 && parts[0] === 'registry.ollama.ai') {
        parts = parts.slice(1);
    }
    if (parts.length === 2 && parts[0] === 'library') {
        parts = parts.slice(1);
    }
    return parts.join('/');
}

function allowed(k, model) {
    return !k.models || Array.prototype.indexOf.call(k.models, model) >= 0;
}

function needKey(r) {
    var k = key(r);
    if (!k) {
        fail(r, 401, 'missing or invalid API key: send Authorization: Bearer <key>', 'authentication_error');
    }
    return k;
}

// Route a request that names a model (body field "model", or the path for /v1/models/<id>) to the
// pool of the instances that serve it: inference paths retry Ollama's 503 elsewhere, others do not.
function routeModel(r, k, requested) {
    if (typeof requested !== 'string' || requested.length === 0) {
        return fail(r, 400, 'the request names no model ("model" is missing)');
    }
    var model = normalize(requested);
    var pool = gwconf.models[model];
    if (!pool) {
        return fail(r, 404, 'model "' + requested + '" not found on any instance behind this gateway', 'not_found_error');
    }
    if (!allowed(k, model)) {
        return fail(r, 403, 'model "' + requested + '" is not allowed for key ' + k.name, 'permission_error');
    }
    r.variables.gw_model = model;
    r.internalRedirect((INFERENCE[r.uri] ? '@inference_' : '@read_') + pool);
}

// js_content for POST paths whose body names the model.
function route(r) {
    var k = needKey(r);
    if (!k) {
        return;
    }
    var body;
    try {
        body = JSON.parse(r.requestText || '');
    } catch (e) {
        return fail(r, 400, 'the request body is not valid JSON: ' + e.message);
    }
    routeModel(r, k, body ? body.model : undefined);
}

// js_content for GET /v1/models/<id>.
function routeModelPath(r) {
    var k = needKey(r);
    if (!k) {
        return;
    }
    routeModel(r, k, decodeURIComponent(r.uri.substring('/v1/models/'.length)));
}

// Ask every backend (subrequests, in parallel) and merge the lists the answers carry.
function gather(r, kind, pick, done) {
    var backends = Array.prototype.slice.call(gwconf.backends);
    var replies = backends.map(function (b) {
        return r.subrequest('/_gw/' + kind + '/' + b).then(function (rep) { return rep; },
                                                           function () { return null; });
    });
    Promise.all(replies).then(function (answers) {
        var items = [], errors = [];
        answers.forEach(function (rep, i) {
            if (!rep || rep.status !== 200) {
                errors.push(backends[i] + ': ' + (rep ? rep.status : 'no answer'));
                return;
            }
            try {
                Array.prototype.forEach.call(pick(JSON.parse(rep.responseText)) || [], function (item) {
                    items.push({backend: backends[i], item: item});
                });
            } catch (e) {
                errors.push(backends[i] + ': invalid JSON');
            }
        });
        if (errors.length) {
            r.warn('gateway: ' + kind + ' skipped ' + errors.join('; '));
        }
        done(items);
    });
}

function reply(r, obj) {
    r.headersOut['Content-Type'] = 'application/json';
    r.return(200, JSON.stringify(obj) + '\n');
}

// GET /api/tags: every model that at least one answering instance serves, once, and only the
// models the key may use.
function tags(r) {
    var k = needKey(r);
    if (!k) {
        return;
    }
    gather(r, 'tags', function (d) { return d.models; }, function (items) {
        var seen = {}, models = [];
        items.forEach(function (x) {
            var name = normalize(x.item.name || x.item.model || '');
            if (!seen[name] && allowed(k, name)) {
                seen[name] = 1;
                models.push(x.item);
            }
        });
        reply(r, {models: models});
    });
}

// GET /api/ps: the models loaded on every answering instance (one entry per instance and model).
function ps(r) {
    var k = needKey(r);
    if (!k) {
        return;
    }
    gather(r, 'ps', function (d) { return d.models; }, function (items) {
        reply(r, {models: items.filter(function (x) {
            return allowed(k, normalize(x.item.name || x.item.model || ''));
        }).map(function (x) { return x.item; })});
    });
}

// GET /v1/models: the OpenAI list, merged and de-duplicated by id.
function models(r) {
    var k = needKey(r);
    if (!k) {
        return;
    }
    gather(r, 'v1models', function (d) { return d.data; }, function (items) {
        var seen = {}, data = [];
        items.forEach(function (x) {
            var id = normalize(x.item.id || '');
            if (!seen[id] && allowed(k, id)) {
                seen[id] = 1;
                data.push(x.item);
            }
        });
        reply(r, {object: 'list', data: data});
    });
}

export default {keyName, keyAdmin, route, routeModelPath, tags, ps, models};
