################################################################################
# Naming and code
################################################################################

variable "name" {
  description = "Name of the API and prefix of every resource the module creates (function, roles, table `<name>-connections`, log groups). Letters, digits, `-` and `_`; it must start with a letter or digit."
  type        = string

  validation {
    # Lambda function and IAM role names allow at most 64 characters; the longest suffix the
    # module adds is "-authorizer" (11).
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$", var.name))
    error_message = "name must be 1-48 characters: letters, digits, '-' and '_', starting with a letter or digit."
  }
}

variable "source_dir" {
  description = "Directory holding your handler code (for example `\"$${path.module}/src\"`). The module zips it byte for byte (binary files included) together with the wsgate runtime (as package `wsgate`) and the packages of requirements_file into one Lambda package, leaving out what source_excludes matches."
  type        = string

  validation {
    condition     = length(trimspace(var.source_dir)) > 0
    error_message = "source_dir must name the directory that holds your handler code."
  }
}

variable "handler" {
  description = "Lambda handler of the dispatcher function, as `module.attribute` inside source_dir."
  type        = string
  default     = "app.app"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", var.handler))
    error_message = "handler must look like \"module.attribute\" (for example \"app.app\")."
  }
}

variable "source_excludes" {
  description = "Regular expressions matched against each file's path relative to source_dir (and to the runtime directory); matching files are left out of the zip. The default leaves out hidden files and directories (.env, .venv, .git), caches, tests and Terraform's own files."
  type        = list(string)
  default = [
    "(^|/)\\.",
    "(^|/)__pycache__/",
    "\\.py[co]$",
    "(^|/)tests?/",
    "(^|/)test_[^/]*\\.py$",
    "(^|/)[^/]*_test\\.py$",
    "(^|/)conftest\\.py$",
    "\\.(tf|tfvars|tfstate|tfplan|zip)$",
    "\\.tfstate\\.backup$",
  ]
}

variable "build_dir" {
  description = "Directory the Lambda zip (named by its content hash) and the build's caches (installed requirements, .pyc files) are written to. Defaults to `build/` next to the root module."
  type        = string
  default     = null
}

################################################################################
# API Gateway
################################################################################

variable "routes" {
  description = "Custom route keys (besides `$connect`, `$disconnect` and `$default`, which always exist), matched against route_selection_expression, for example `[\"join\", \"say\"]`."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.routes : can(regex("^[^$\\s][^\\s]{0,127}$", r))])
    error_message = "Custom route keys must be 1-128 characters, contain no whitespace and not start with '$' ($connect, $disconnect and $default are created by the module)."
  }

  validation {
    condition     = length(var.routes) == length(distinct(var.routes))
    error_message = "routes must not list a route key twice."
  }

  validation {
    # 300 routes per API (AWS quota), three of which are the predefined ones.
    condition     = length(var.routes) <= 297
    error_message = "An API has at most 300 routes, so at most 297 custom routes."
  }
}

variable "two_way_routes" {
  description = "Route keys whose handler return value is sent back to the caller (a `$default` route response). Each must be `$default`, `$connect` or one of routes."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for r in var.two_way_routes : !startswith(r, "$") || contains(["$default", "$connect"], r)])
    error_message = "Of the predefined routes only $default and $connect can be two-way ($disconnect has no client to answer)."
  }
}

variable "route_selection_expression" {
  description = "How API Gateway picks a route for a message: `$request.body.<path>` (a JSON path into the message body), or `$${request.body.<path>}` references mixed with literal text such as `$${request.body.service}/$${request.body.action}`."
  type        = string
  default     = "$request.body.action"

  validation {
    # WebSocket APIs select routes from the message body only: variables are $request.body.<path>
    # or ${request.body.<path>} (braces mark where a variable ends), literal text may surround
    # them, and \$ is a literal dollar sign (API Gateway Developer Guide, "Selection expressions
    # for WebSocket APIs" and "Routes"; ../shared/aws/SEMANTICS.md section 2.1).
    condition = length(var.route_selection_expression) > 0 && !can(regex("(^|[^\\\\])\\$", replace(replace(
      var.route_selection_expression, "/\\$\\{request\\.body\\.[^}\\s]+\\}/", ""), "/\\$request\\.body\\.[^\\s$${}]+/", ""
    )))
    error_message = "route_selection_expression may only refer to the message body: $request.body.<path> or $${request.body.<path>} (with literal text around them), for example \"$request.body.action\"."
  }
}

variable "api_description" {
  description = "Description of the API."
  type        = string
  default     = "WebSocket API managed by wsgate"

  validation {
    condition     = length(var.api_description) <= 1024
    error_message = "api_description must be at most 1024 characters."
  }
}

variable "stage_name" {
  description = "Name of the stage; it is the path of the WebSocket URL (`wss://.../<stage_name>`)."
  type        = string
  default     = "dev"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1-128 characters: letters, digits, '-' and '_'."
  }
}

variable "integration_timeout_ms" {
  description = "How long API Gateway waits for the dispatcher, in milliseconds (50-29000)."
  type        = number
  default     = 29000

  validation {
    condition     = var.integration_timeout_ms >= 50 && var.integration_timeout_ms <= 29000 && floor(var.integration_timeout_ms) == var.integration_timeout_ms
    error_message = "integration_timeout_ms must be a whole number from 50 to 29000 (API Gateway's WebSocket limits)."
  }
}

variable "throttling_burst_limit" {
  description = "Stage-wide burst limit for messages and connects (requests). Always set: a stage route setting without it means a limit of 0."
  type        = number
  default     = 500

  validation {
    condition     = var.throttling_burst_limit >= 1 && var.throttling_burst_limit <= 5000 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "throttling_burst_limit must be a whole number from 1 to 5000 (the account-level burst); 0 would answer every request with 429."
  }
}

variable "throttling_rate_limit" {
  description = "Stage-wide steady rate limit in requests per second."
  type        = number
  default     = 1000

  validation {
    condition     = var.throttling_rate_limit > 0 && var.throttling_rate_limit <= 10000
    error_message = "throttling_rate_limit must be more than 0 and at most 10000 (the default account-level rate); 0 would answer every request with 429."
  }
}

variable "access_log_enabled" {
  description = "Write the stage's access logs (one JSON line per connect, message and disconnect) to the log group `/aws/apigateway/<name>/<stage_name>`. API Gateway accepts stage logging only once the account has a CloudWatch Logs role in the region (an account-level setting a fresh account lacks; API Gateway Developer Guide, \"Set up CloudWatch logging\"), so this needs create_api_gateway_account or api_gateway_cloudwatch_role_exists; a precondition says so at plan time."
  type        = bool
  default     = false
}

variable "execution_logging_level" {
  description = "API Gateway execution logging: `OFF`, `ERROR` or `INFO`. Anything but OFF needs the account's CloudWatch Logs role in the region, like access_log_enabled (create_api_gateway_account or api_gateway_cloudwatch_role_exists). Message bodies are never logged (data trace stays off)."
  type        = string
  default     = "OFF"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.execution_logging_level)
    error_message = "execution_logging_level must be OFF, ERROR or INFO."
  }
}

variable "detailed_metrics_enabled" {
  description = "Turn on per-route CloudWatch metrics for the stage."
  type        = bool
  default     = false
}

variable "create_api_gateway_account" {
  description = "Create the account-wide CloudWatch role for API Gateway (`aws_api_gateway_account`), which stage logging needs. It is one setting per account and region shared by every API, and destroying it resets it (AWS provider v6), so turn this on in one stack per region only, the one that owns that setting."
  type        = bool
  default     = false
}

variable "api_gateway_cloudwatch_role_exists" {
  description = "Say that this account and region already has API Gateway's CloudWatch Logs role (set by another stack or by hand: `aws apigateway get-account` shows `cloudwatchRoleArn`), so access_log_enabled and execution_logging_level may be used without create_api_gateway_account. Terraform cannot read that setting, so it is your statement."
  type        = bool
  default     = false
}

################################################################################
# Authorizer ($connect only)
################################################################################

variable "authorizer_handler" {
  description = "Handler (`module.function` in source_dir) of a REQUEST authorizer the module builds as its own Lambda and attaches to `$connect`. Null for none. Mutually exclusive with authorizer_function_arn."
  type        = string
  default     = null

  validation {
    condition     = var.authorizer_handler == null || can(regex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+$", var.authorizer_handler))
    error_message = "authorizer_handler must look like \"module.function\" (for example \"auth.check\")."
  }
}

variable "authorizer_function_enabled" {
  description = "Attach the existing Lambda function authorizer_function_arn to `$connect` as a REQUEST authorizer. A plain boolean decides at plan time that the authorizer exists, so the ARN may come from a function created in the same apply."
  type        = bool
  default     = false
}

variable "authorizer_function_arn" {
  description = "ARN of an existing Lambda function to use as the `$connect` REQUEST authorizer (with authorizer_function_enabled = true): unqualified, or qualified with a version or alias (`...:function:auth:live`). The module grants API Gateway permission to invoke it. Null for none."
  type        = string
  default     = null

  validation {
    # The Lambda API's FunctionArn pattern (botocore lambda service model, shape FunctionArn):
    # arn:(aws[a-zA-Z-]*)?:lambda:<region>:<account>:function:<name>(:($LATEST|<version or alias>))?
    condition     = var.authorizer_function_arn == null || can(regex("^arn:aws[a-zA-Z-]*:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-[0-9]:[0-9]{12}:function:[a-zA-Z0-9_-]{1,64}(:(\\$LATEST|[a-zA-Z0-9_-]{1,128}))?$", var.authorizer_function_arn))
    error_message = "authorizer_function_arn must be a Lambda function ARN: arn:aws:lambda:<region>:<account>:function:<name>, optionally with :<version> or :<alias>."
  }
}

variable "authorizer_identity_sources" {
  description = "Where the authorizer reads its input: `route.request.header.<Name>`, `route.request.querystring.<Name>`, `stageVariables.<Name>` or `context.<Name>`. When one is missing, API Gateway refuses the connect with 401 without calling the authorizer."
  type        = list(string)
  default     = ["route.request.header.Authorization"]

  validation {
    # WebSocket REQUEST authorizer identity sources: route.request.header|querystring.<name>,
    # stageVariables.<name> and context.<name>, each name [a-zA-Z0-9._-]+ (API Gateway v2
    # CreateAuthorizer IdentitySource for WEBSOCKET; the same patterns in the AWS CDK's
    # WebSocketLambdaAuthorizerProps.identitySource documentation).
    condition     = alltrue([for s in var.authorizer_identity_sources : can(regex("^(route\\.request\\.(header|querystring)|stageVariables|context)\\.[A-Za-z0-9._-]+$", s))])
    error_message = "Each identity source must be route.request.header.<Name>, route.request.querystring.<Name>, stageVariables.<Name> or context.<Name> (the HTTP API form $request.header.X is rejected for WebSocket APIs)."
  }
}

################################################################################
# Lambda
################################################################################

variable "runtime" {
  description = "Python runtime of the functions."
  type        = string
  default     = "python3.12"

  validation {
    # Every Python runtime of the Lambda API's Runtime enum (botocore lambda service model, which
    # the provider's enum follows) that the wsgate runtime supports: Python 3.11 or newer.
    condition     = contains(["python3.11", "python3.12", "python3.13", "python3.14", "python3.15"], var.runtime)
    error_message = "runtime must be python3.11, python3.12, python3.13, python3.14 or python3.15 (wsgate needs Python 3.11 or newer)."
  }
}

variable "architecture" {
  description = "Instruction set of the functions: `x86_64` or `arm64`."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "memory_size" {
  description = "Memory of the dispatcher function in MB (128-10240)."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "timeout" {
  description = "Timeout of the dispatcher function in seconds. API Gateway stops waiting after integration_timeout_ms, so more than 29 only helps work that outlives the reply."
  type        = number
  default     = 29

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900 && floor(var.timeout) == var.timeout
    error_message = "timeout must be a whole number of seconds from 1 to 900."
  }
}

variable "authorizer_memory_size" {
  description = "Memory of the authorizer function (authorizer_handler) in MB (128-10240)."
  type        = number
  default     = 256

  validation {
    condition     = var.authorizer_memory_size >= 128 && var.authorizer_memory_size <= 10240 && floor(var.authorizer_memory_size) == var.authorizer_memory_size
    error_message = "authorizer_memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "authorizer_timeout" {
  description = "Timeout of the authorizer function in seconds (1-29): API Gateway waits at most 29 seconds for an integration, authorizers included."
  type        = number
  default     = 29

  validation {
    condition     = var.authorizer_timeout >= 1 && var.authorizer_timeout <= 29 && floor(var.authorizer_timeout) == var.authorizer_timeout
    error_message = "authorizer_timeout must be a whole number of seconds from 1 to 29."
  }
}

variable "reserved_concurrent_executions" {
  description = "Concurrency reserved for the dispatcher. Null leaves it unreserved (new accounts may have too little concurrency to reserve any)."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrent_executions == null || try(var.reserved_concurrent_executions >= 1 && floor(var.reserved_concurrent_executions) == var.reserved_concurrent_executions, false)
    error_message = "reserved_concurrent_executions must be null or a whole number of at least 1 (0 would disable the function)."
  }
}

variable "fanout_threshold" {
  description = "Recipients a publish or broadcast sends to from the calling function itself; above this it fans out over asynchronous invocations of the dispatcher, one per `fanout_shard_size` recipients (`WSGATE_FANOUT_THRESHOLD`)."
  type        = number
  default     = 1000

  validation {
    condition     = try(var.fanout_threshold >= 0 && floor(var.fanout_threshold) == var.fanout_threshold, false)
    error_message = "fanout_threshold must be a whole number of at least 0 (0 fans out every publish that has a recipient)."
  }
}

variable "fanout_shard_size" {
  description = "Recipients per fan-out shard, each one asynchronous invocation of the dispatcher (`WSGATE_FANOUT_SHARD_SIZE`). At most 5,000, so that a shard's ids stay well inside Lambda's asynchronous payload limit."
  type        = number
  default     = 1000

  validation {
    condition     = try(var.fanout_shard_size >= 1 && var.fanout_shard_size <= 5000 && floor(var.fanout_shard_size) == var.fanout_shard_size, false)
    error_message = "fanout_shard_size must be a whole number from 1 to 5000."
  }
}

variable "tracing_enabled" {
  description = "Turn on AWS X-Ray active tracing for the functions."
  type        = bool
  default     = false
}

variable "log_level" {
  description = "Log level of the wsgate runtime (`WSGATE_LOG_LEVEL`)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL."
  }
}

variable "environment" {
  description = "Extra environment variables of the dispatcher function (the authorizer has its own: authorizer_environment). WSGATE_ENDPOINT, WSGATE_TABLE, WSGATE_LOG_LEVEL and WSGATE_FANOUT_* are set by the module. Keep secrets out: environment variables are visible to anyone who can read the function configuration."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment) : !contains(["WSGATE_ENDPOINT", "WSGATE_TABLE", "WSGATE_LOG_LEVEL"], k) && !startswith(k, "WSGATE_FANOUT_")])
    error_message = "environment must not set WSGATE_ENDPOINT, WSGATE_TABLE, WSGATE_LOG_LEVEL or WSGATE_FANOUT_*: the module sets them (use log_level, fanout_threshold and fanout_shard_size)."
  }

  validation {
    condition     = alltrue([for k in keys(var.environment) : can(regex("^[A-Za-z][A-Za-z0-9_]*$", k)) && !startswith(k, "AWS_")])
    error_message = "Environment variable names must be letters, digits and '_', start with a letter, and not start with AWS_ (reserved by Lambda)."
  }
}

variable "layers" {
  description = "ARNs of Lambda layers (at most 5) for the functions, for dependencies beyond boto3 or binary packages."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.layers) <= 5
    error_message = "A function can use at most 5 layers."
  }
}

variable "vpc_config" {
  description = "Run the functions in a VPC. They must still reach DynamoDB and the execute-api endpoint (VPC endpoints or NAT). Null keeps them outside a VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null
}

variable "code_signing_config_arn" {
  description = "ARN of a Lambda code signing configuration for the functions. Null for none."
  type        = string
  default     = null
}

variable "dead_letter_target_arn" {
  description = "SQS queue or SNS topic ARN for failed asynchronous invocations of the dispatcher. API Gateway invokes it synchronously, so this only matters if you also invoke it asynchronously. Null for none."
  type        = string
  default     = null
}

################################################################################
# Data, logs, encryption
################################################################################

variable "kms_key_arn" {
  description = "ARN of a customer managed KMS key for the connection table, the log groups and the functions' environment variables. Its key policy must allow the CloudWatch Logs service. Null uses AWS owned/managed keys."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "log_retention_in_days" {
  description = "Retention of the log groups the module creates (Lambda and access logs). 0 keeps logs forever."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be one of CloudWatch's values: 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "deletion_protection" {
  description = "Protect the connection table from deletion. The table holds only short-lived connection state, so it is off by default."
  type        = bool
  default     = false
}

variable "point_in_time_recovery" {
  description = "Turn on point-in-time recovery for the connection table (room history lives there)."
  type        = bool
  default     = true
}

################################################################################
# Custom domain
################################################################################

variable "domain_name" {
  description = "Custom domain for the API (for example `ws.example.com`). Null uses the execute-api domain. The DNS record is yours to create (output domain_name_target) unless create_route53_record is set."
  type        = string
  default     = null

  validation {
    condition     = var.domain_name == null || can(regex("^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$", var.domain_name))
    error_message = "domain_name must be a fully qualified host name such as ws.example.com."
  }
}

variable "domain_certificate_arn" {
  description = "ARN of the ACM certificate (in the API's region) for domain_name. Required when domain_name is set."
  type        = string
  default     = null
}

variable "api_mapping_key" {
  description = "Base path of the API on the custom domain (empty for the domain root)."
  type        = string
  default     = ""

  validation {
    # "API mappings must contain only letters, numbers, and the following characters:
    # $-_.+!*'()", at most 300 characters, and may have several levels separated by "/"
    # (API Gateway Developer Guide, "Map API stages to a custom domain name for WebSocket APIs").
    condition     = var.api_mapping_key == "" || (length(var.api_mapping_key) <= 300 && can(regex("^[A-Za-z0-9$_.+!*'()-]+(/[A-Za-z0-9$_.+!*'()-]+)*$", var.api_mapping_key)))
    error_message = "api_mapping_key must be empty or a path of at most 300 characters such as \"chat\" or \"v1/chat\": letters, digits and $-_.+!*'(), levels separated by '/' (no leading or trailing '/')."
  }
}

variable "disable_execute_api_endpoint" {
  description = "With a custom domain, turn off the default execute-api endpoint so clients can only connect through the domain. The functions then reach the @connections API through the domain too (WSGATE_ENDPOINT), which works only once DNS points at it; otherwise they use the execute-api endpoint, which works from the first apply."
  type        = bool
  default     = false
}

variable "create_route53_record" {
  description = "Create the Route 53 alias (A) record of domain_name in the hosted zone route53_zone_id. A plain boolean, so the zone may be created in the same apply."
  type        = bool
  default     = false
}

variable "route53_zone_id" {
  description = "ID of the Route 53 hosted zone for domain_name's alias record (with create_route53_record)."
  type        = string
  default     = null
}

################################################################################
# IAM roles
################################################################################

variable "iam_role_use_name_prefix" {
  description = "Name the roles from a prefix (`<name>-dispatcher-`, `<name>-authorizer-`, `<name>-apigw-logs-`, the name cut to 26 characters) plus a unique suffix Terraform adds. IAM names are account-wide, so this lets one name be deployed in several regions of an account; false names them exactly `<name>-dispatcher` and so on."
  type        = bool
  default     = true
}

variable "iam_role_path" {
  description = "Path of the IAM roles the module creates."
  type        = string
  default     = "/"

  validation {
    # IAM: a path is "/" or starts and ends with "/", 1-512 characters of \u0021-\u007F
    # (IAM API Reference, CreateRole, Path).
    condition     = length(var.iam_role_path) <= 512 && can(regex("^/([\\x21-\\x7E]*/)?$", var.iam_role_path))
    error_message = "iam_role_path must be \"/\" or begin and end with '/' (for example \"/wsgate/\"), at most 512 characters."
  }
}

variable "iam_role_permissions_boundary" {
  description = "ARN of the managed policy to set as permissions boundary of the IAM roles the module creates. Null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource the module creates that takes tags."
  type        = map(string)
  default     = {}
}

################################################################################
# Packaging: dependencies, bytecode, the build's interpreter
################################################################################

variable "requirements_file" {
  description = "pip requirements file whose packages go into the Lambda zip, relative to source_dir (or absolute). The default, `requirements.txt`, is used when source_dir has one. Wheels are installed for the function's architecture and the runtime's Python version (manylinux, binary only, no Docker); pin versions with `==` so plan and apply install the same ones. null installs nothing."
  type        = string
  default     = "requirements.txt"
}

variable "compile_bytecode" {
  description = "Ship .pyc files (compiled by a Python of the runtime's version, e.g. python3.12 on PATH where Terraform runs) so cold starts skip compiling. null: when such a Python is found; true: fail the plan without one; false: never. Where plan and apply run on different machines, set true or false so both build the same zip."
  type        = bool
  default     = null
}

variable "build_python" {
  description = "Python 3 interpreter (with pip, when there are requirements) that builds the Lambda zip where Terraform runs."
  type        = string
  default     = "python3"
}

variable "authorizer_environment" {
  description = "Environment variables of the authorizer function the module builds (authorizer_handler); the dispatcher's `environment` is not passed to it. Keep secrets out of both: store them in SSM Parameter Store or Secrets Manager and read them at cold start (see examples/authorizer)."
  type        = map(string)
  default     = {}
}

variable "s3_bucket" {
  description = "S3 bucket (yours, in the functions' region) to upload the Lambda zip to; the functions then take their code from there. Needed when the zip is above Lambda's 50 MB direct-upload limit; null uploads the zip with the function. Whoever runs Terraform needs s3:PutObject and s3:GetObject on `s3_key_prefix*` in it."
  type        = string
  default     = null
}

variable "s3_key_prefix" {
  description = "Key prefix of the uploaded zip in s3_bucket; the object is named by the zip's content hash."
  type        = string
  default     = "wsgate/"
}

variable "create_runtime_layer" {
  description = "Also publish the wsgate runtime alone as a Lambda layer (`python/wsgate`), for functions outside source_dir that send with wsgate without bundling it: add the `runtime_layer_arn` output to their `layers`. The module's own functions keep their copy in their zip."
  type        = bool
  default     = false
}

################################################################################
# HTTP API (http.tf)
################################################################################

variable "http_api" {
  description = "Also put an API Gateway HTTP API (one `$default` route, payload format 2.0) in front of the dispatcher, for apps that serve HTTP routes from the same function (a Zappa app's Flask or Django views through `wsgate.compat.zappa.handler`). Its URL is the `http_api_url` output."
  type        = bool
  default     = false
}
