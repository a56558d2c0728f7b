"""The OpenAPI document of /api/v1/ (served at /api/v1/openapi.json)."""

from __future__ import annotations

from typing import Any

_BEARER: list[dict[str, list[str]]] = [{"token": []}]
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_WAIT = {"name": "wait", "in": "query",
         "description": "seconds (at most 10) to wait for the verdict before answering (a "
                        "long poll); without it, at once",
         "schema": {"type": "number", "minimum": 0, "maximum": 10}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "grade serve", "version": "1"},
    "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/api/v1/submissions": {
            "post": {"summary": "Upload a file; returns the receipt (id, sha256, received_at, "
                                "rule, position)",
                     "security": _BEARER,
                     "parameters": [{**_WAIT, "description": "seconds (at most 10) to wait, "
                                     "once the upload is stored, for its verdict before "
                                     "answering (a long poll); without it, at once"}],
                     "requestBody": {"content": {"application/json": {"schema": {
                         "type": "object",
                         "required": ["exercise", "idempotency_key", "content"],
                         "properties": {"exercise": {"type": "string"},
                                        "idempotency_key": {"type": "string"},
                                        "filename": {"type": "string",
                                                     "description": "only its suffix is used"},
                                        "content": {"type": "string",
                                                    "contentEncoding": "base64"}}}}}},
                     "responses": {"201": {"description": "stored and queued"},
                                   "200": {"description": "this key was uploaded before"},
                                   "413": {"description": "too large"},
                                   "429": {"description": "too many uploads"}}},
            "get": {"summary": "The caller's own submissions", "security": _BEARER,
                    "parameters": [{"name": "exercise", "in": "query",
                                    "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "a list"}}},
        },
        "/api/v1/submissions/{id}": {
            "get": {"summary": "One of the caller's submissions, with its result when graded",
                    "security": _BEARER,
                    "parameters": [_ID, _WAIT],
                    "responses": {"200": {"description": "the submission"},
                                  "404": {"description": "none of the caller's"}}}},
        "/api/v1/submissions/{id}/regrades": {
            "post": {"summary": "Ask the staff to look again at one check of one of the "
                                "caller's graded submissions (open until 7 days after the "
                                "exercise's publication)",
                     "security": _BEARER, "parameters": [_ID],
                     "requestBody": {"content": {"application/json": {"schema": {
                         "type": "object", "required": ["check", "message"],
                         "properties": {"check": {"type": "string",
                                                  "description": "a check's name in the result"},
                                        "message": {"type": "string", "maxLength": 4000}}}}}},
                     "responses": {"201": {"description": "the request, its thread"},
                                   "400": {"description": "no such check, or no message"},
                                   "403": {"description": "requests are closed"},
                                   "404": {"description": "none of the caller's"}}}},
        "/api/v1/regrades": {
            "get": {"summary": "The caller's regrade requests, each with its thread",
                    "security": _BEARER, "responses": {"200": {"description": "a list"}}}},
        "/api/v1/regrades/{id}/messages": {
            "post": {"summary": "Add to one of the caller's open regrade requests",
                     "security": _BEARER,
                     "parameters": [{**_ID, "schema": {"type": "integer"}}],
                     "requestBody": {"content": {"application/json": {"schema": {
                         "type": "object", "required": ["message"],
                         "properties": {"message": {"type": "string", "maxLength": 4000}}}}}},
                     "responses": {"200": {"description": "the request, its thread"},
                                   "403": {"description": "the request is closed"},
                                   "404": {"description": "none of the caller's"}}}},
        "/healthz": {"get": {"summary": "Alive, and how many jobs are queued",
                             "responses": {"200": {"description": "ok"}}}},
    },
}
