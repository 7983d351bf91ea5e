/// The OpenAPI 3.0 document of the monitoring API, served at `/api-docs/openapi.json` (SRI's paths and schemas).
public enum MonitoringOpenAPI {
    /// The document's JSON text.
    public static let document = #"""
    {
      "openapi": "3.0.3",
      "info": {"title": "sv2 Monitoring API", "version": "0.1.0",
        "description": "SRI-compatible monitoring of an sv2 role: its upstream (server) channels, its Sv2 and Sv1 clients. Lists take offset (default 0) and limit (default 25, at most 100)."},
      "paths": {
        "/api/v1/health": {"get": {"summary": "Health check", "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HealthResponse"}}}}}}},
        "/api/v1/global": {"get": {"summary": "Totals of every side", "responses": {"200": {"description": "totals", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GlobalInfo"}}}}}}},
        "/api/v1/server": {"get": {"summary": "Upstream channel totals", "responses": {
          "200": {"description": "totals", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServerResponse"}}}},
          "404": {"$ref": "#/components/responses/NotAvailable"}}}},
        "/api/v1/server/channels": {"get": {"summary": "Upstream channels", "parameters": [{"$ref": "#/components/parameters/offset"}, {"$ref": "#/components/parameters/limit"}], "responses": {
          "200": {"description": "channels", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServerChannelsResponse"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "404": {"$ref": "#/components/responses/NotAvailable"}}}},
        "/api/v1/clients": {"get": {"summary": "Sv2 clients", "parameters": [{"$ref": "#/components/parameters/offset"}, {"$ref": "#/components/parameters/limit"}], "responses": {
          "200": {"description": "clients", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Sv2ClientsResponse"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "404": {"$ref": "#/components/responses/NotAvailable"}}}},
        "/api/v1/clients/{client_id}": {"get": {"summary": "One Sv2 client", "parameters": [{"$ref": "#/components/parameters/client_id"}], "responses": {
          "200": {"description": "client", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Sv2ClientMetadata"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "404": {"$ref": "#/components/responses/NotAvailable"}}}},
        "/api/v1/clients/{client_id}/channels": {"get": {"summary": "One Sv2 client's channels", "parameters": [{"$ref": "#/components/parameters/client_id"}, {"$ref": "#/components/parameters/offset"}, {"$ref": "#/components/parameters/limit"}], "responses": {
          "200": {"description": "channels", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Sv2ClientChannelsResponse"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "404": {"$ref": "#/components/responses/NotAvailable"}}}},
        "/api/v1/sv1/clients": {"get": {"summary": "Sv1 clients", "parameters": [{"$ref": "#/components/parameters/offset"}, {"$ref": "#/components/parameters/limit"}], "responses": {
          "200": {"description": "clients", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Sv1ClientsResponse"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "404": {"$ref": "#/components/responses/NotAvailable"}}}},
        "/api/v1/sv1/clients/{client_id}": {"get": {"summary": "One Sv1 client", "parameters": [{"$ref": "#/components/parameters/client_id"}], "responses": {
          "200": {"description": "client", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Sv1ClientInfo"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "404": {"$ref": "#/components/responses/NotAvailable"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}}}}}
      },
      "components": {
        "parameters": {
          "offset": {"name": "offset", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "default": 0}},
          "limit": {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": 100, "default": 25}},
          "client_id": {"name": "client_id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 0}}
        },
        "responses": {
          "NotAvailable": {"description": "this role has no such side, or no such client", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}},
          "BadRequest": {"description": "a malformed id or query parameter", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
        },
        "schemas": {
          "ErrorResponse": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
          "HealthResponse": {"type": "object", "required": ["status", "timestamp"], "properties": {"status": {"type": "string"}, "timestamp": {"type": "integer"}}},
          "GlobalInfo": {"type": "object", "required": ["server", "sv2_clients", "sv1_clients", "uptime_secs"], "properties": {
            "server": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/ServerSummary"}]},
            "sv2_clients": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/Sv2ClientsSummary"}]},
            "sv1_clients": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/Sv1ClientsSummary"}]},
            "uptime_secs": {"type": "integer"}}},
          "ServerSummary": {"type": "object", "required": ["total_channels", "extended_channels", "standard_channels", "total_hashrate"], "properties": {
            "total_channels": {"type": "integer"}, "extended_channels": {"type": "integer"}, "standard_channels": {"type": "integer"}, "total_hashrate": {"type": "number"}}},
          "Sv2ClientsSummary": {"type": "object", "required": ["total_clients", "total_channels", "extended_channels", "standard_channels", "total_hashrate"], "properties": {
            "total_clients": {"type": "integer"}, "total_channels": {"type": "integer"}, "extended_channels": {"type": "integer"}, "standard_channels": {"type": "integer"}, "total_hashrate": {"type": "number"}}},
          "Sv1ClientsSummary": {"type": "object", "required": ["total_clients", "total_hashrate"], "properties": {"total_clients": {"type": "integer"}, "total_hashrate": {"type": "number"}}},
          "ServerResponse": {"type": "object", "required": ["extended_channels_count", "standard_channels_count", "total_hashrate"], "properties": {
            "extended_channels_count": {"type": "integer"}, "standard_channels_count": {"type": "integer"}, "total_hashrate": {"type": "number"}}},
          "RejectionsByReason": {"type": "object", "additionalProperties": {"type": "integer"}},
          "ServerChannelInfo": {"type": "object", "required": ["channel_id", "user_identity", "nominal_hashrate", "target_hex", "extranonce_prefix_hex", "shares_acknowledged", "shares_submitted", "shares_rejected", "shares_rejected_by_reason", "acknowledged_work_sum", "validated_work_sum", "best_diff", "blocks_found"], "properties": {
            "channel_id": {"type": "integer"}, "user_identity": {"type": "string"}, "nominal_hashrate": {"type": "number", "nullable": true},
            "target_hex": {"type": "string"}, "extranonce_prefix_hex": {"type": "string"},
            "full_extranonce_size": {"type": "integer", "description": "extended channels only"}, "rollable_extranonce_size": {"type": "integer", "description": "extended channels only"},
            "version_rolling": {"type": "boolean", "description": "extended channels only"},
            "shares_acknowledged": {"type": "integer"}, "shares_submitted": {"type": "integer"}, "shares_rejected": {"type": "integer"},
            "shares_rejected_by_reason": {"$ref": "#/components/schemas/RejectionsByReason"}, "acknowledged_work_sum": {"type": "integer"},
            "validated_work_sum": {"type": "number"}, "best_diff": {"type": "number"}, "blocks_found": {"type": "integer"}}},
          "ServerChannelsResponse": {"type": "object", "required": ["offset", "limit", "total_extended", "total_standard", "extended_channels", "standard_channels"], "properties": {
            "offset": {"type": "integer"}, "limit": {"type": "integer"}, "total_extended": {"type": "integer"}, "total_standard": {"type": "integer"},
            "extended_channels": {"type": "array", "items": {"$ref": "#/components/schemas/ServerChannelInfo"}},
            "standard_channels": {"type": "array", "items": {"$ref": "#/components/schemas/ServerChannelInfo"}}}},
          "Sv2ClientMetadata": {"type": "object", "required": ["client_id", "client_kind", "extended_channels_count", "standard_channels_count", "total_hashrate"], "properties": {
            "client_id": {"type": "integer"}, "client_kind": {"type": "string", "enum": ["miner", "translator_proxy", "unknown"]},
            "extended_channels_count": {"type": "integer"}, "standard_channels_count": {"type": "integer"}, "total_hashrate": {"type": "number"}}},
          "Sv2ClientsResponse": {"type": "object", "required": ["offset", "limit", "total", "items"], "properties": {
            "offset": {"type": "integer"}, "limit": {"type": "integer"}, "total": {"type": "integer"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/Sv2ClientMetadata"}}}},
          "ClientChannelInfo": {"type": "object", "required": ["channel_id", "user_identity", "nominal_hashrate", "stable_hashrate", "target_hex", "requested_max_target_hex", "extranonce_prefix_hex", "expected_shares_per_minute", "shares_accepted", "shares_rejected", "shares_rejected_by_reason", "share_work_sum", "last_share_sequence_number", "best_diff", "last_batch_accepted", "last_batch_work_sum", "share_batch_size", "blocks_found"], "properties": {
            "channel_id": {"type": "integer"}, "user_identity": {"type": "string"}, "nominal_hashrate": {"type": "number"}, "stable_hashrate": {"type": "boolean"},
            "target_hex": {"type": "string"}, "requested_max_target_hex": {"type": "string"}, "extranonce_prefix_hex": {"type": "string"},
            "full_extranonce_size": {"type": "integer", "description": "extended channels only"}, "rollable_extranonce_size": {"type": "integer", "description": "extended channels only"},
            "expected_shares_per_minute": {"type": "number"}, "shares_accepted": {"type": "integer"}, "shares_rejected": {"type": "integer"},
            "shares_rejected_by_reason": {"$ref": "#/components/schemas/RejectionsByReason"}, "share_work_sum": {"type": "number"},
            "last_share_sequence_number": {"type": "integer"}, "best_diff": {"type": "number"}, "last_batch_accepted": {"type": "integer"},
            "last_batch_work_sum": {"type": "integer"}, "share_batch_size": {"type": "integer"}, "blocks_found": {"type": "integer"}}},
          "Sv2ClientChannelsResponse": {"type": "object", "required": ["client_id", "offset", "limit", "total_extended", "total_standard", "extended_channels", "standard_channels"], "properties": {
            "client_id": {"type": "integer"}, "offset": {"type": "integer"}, "limit": {"type": "integer"}, "total_extended": {"type": "integer"}, "total_standard": {"type": "integer"},
            "extended_channels": {"type": "array", "items": {"$ref": "#/components/schemas/ClientChannelInfo"}},
            "standard_channels": {"type": "array", "items": {"$ref": "#/components/schemas/ClientChannelInfo"}}}},
          "Sv1ClientInfo": {"type": "object", "required": ["client_id", "channel_id", "connection_ip", "sv1_username", "sv1_worker_name", "target_hex", "hashrate", "stable_hashrate", "extranonce1_hex", "extranonce2_len", "version_rolling_mask", "version_rolling_min_bit"], "properties": {
            "client_id": {"type": "integer"}, "channel_id": {"type": "integer", "nullable": true}, "connection_ip": {"type": "string"},
            "sv1_username": {"type": "string"}, "sv1_worker_name": {"type": "string"}, "target_hex": {"type": "string"},
            "hashrate": {"type": "number", "nullable": true}, "stable_hashrate": {"type": "boolean"}, "extranonce1_hex": {"type": "string"},
            "extranonce2_len": {"type": "integer"}, "version_rolling_mask": {"type": "string", "nullable": true}, "version_rolling_min_bit": {"type": "string", "nullable": true}}},
          "Sv1ClientsResponse": {"type": "object", "required": ["offset", "limit", "total", "items"], "properties": {
            "offset": {"type": "integer"}, "limit": {"type": "integer"}, "total": {"type": "integer"}, "items": {"type": "array", "items": {"$ref": "#/components/schemas/Sv1ClientInfo"}}}}
        }
      }
    }
    """#
}
