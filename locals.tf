locals {
  # The three route keys API Gateway predefines; every API gets them, all wired to the dispatcher.
  predefined_routes = ["$connect", "$disconnect", "$default"]
  route_keys        = concat(local.predefined_routes, var.routes)

  create_authorizer = var.authorizer_handler != null
  # Plain inputs only (a handler name, a boolean): an ARN from a resource of the same apply is
  # unknown at plan time, and count/for_each must be known then.
  use_authorizer = local.create_authorizer || var.authorizer_function_enabled

  # Access or execution logs on the stage: either needs the account's CloudWatch role.
  stage_logging = var.access_log_enabled || var.execution_logging_level != "OFF"

  custom_domain = var.domain_name != null
  base_path     = var.api_mapping_key == "" ? "" : "/${var.api_mapping_key}"
  # The functions reach @connections through the custom domain only when the execute-api
  # endpoint is off: the domain answers only once DNS points at it, which may be later.
  connections_via_domain = local.custom_domain && var.disable_execute_api_endpoint

  # api_endpoint is wss://{api-id}.execute-api.{region}.amazonaws.com. The management (@connections)
  # API is the same host over https plus the stage; behind a custom domain it is the domain plus the
  # mapping's base path, with no stage (used only when execute-api is disabled). Neither form
  # depends on the stage or the function, so the function's environment can carry it without a
  # dependency cycle.
  execute_api_endpoint = aws_apigatewayv2_api.this.api_endpoint
  websocket_url        = local.custom_domain ? "wss://${var.domain_name}${local.base_path}" : "${local.execute_api_endpoint}/${var.stage_name}"
  management_endpoint  = local.connections_via_domain ? "https://${var.domain_name}${local.base_path}" : "${replace(local.execute_api_endpoint, "wss://", "https://")}/${var.stage_name}"

  # arn:{partition}:apigateway:{region}::/apis/{id}
  partition = split(":", aws_apigatewayv2_api.this.arn)[1]

  # What other functions need to send to this API's clients. A publish above the fan-out
  # threshold starts shards on the dispatcher (its name is var.name, see lambda.tf), so the
  # name is known without referring to the function, which would be a dependency cycle.
  sender_env = {
    WSGATE_ENDPOINT          = local.management_endpoint
    WSGATE_TABLE             = aws_dynamodb_table.this.name
    WSGATE_FANOUT_FUNCTION   = var.name
    WSGATE_FANOUT_THRESHOLD  = tostring(var.fanout_threshold)
    WSGATE_FANOUT_SHARD_SIZE = tostring(var.fanout_shard_size)
  }

  dispatcher_env = merge(var.environment, local.sender_env, {
    WSGATE_LOG_LEVEL = var.log_level
    # Lets the runtime name the action of a message that matched no route.
    WSGATE_ROUTE_SELECTION_EXPRESSION = var.route_selection_expression
  })
  # The authorizer gets its own variables only: the dispatcher's (var.environment) may hold
  # settings the authorizer has no business seeing.
  authorizer_env = merge(var.authorizer_environment, {
    WSGATE_LOG_LEVEL = var.log_level
  })

  # ---------------------------------------------------------------- packaging
  # One zip holds the wsgate runtime (as the top-level package `wsgate`), the user's code and
  # the packages requirements_file lists; packager/build.py builds it (see lambda.tf).
  runtime_dir = "${path.module}/lambda/wsgate"
  build_dir   = coalesce(var.build_dir, "${path.root}/build")

  # Everything the build depends on, as strings (the external protocol's query is a map of
  # strings). Paths stay as Terraform spells them (relative to the root module), so two
  # checkouts of one configuration plan the same package.
  package_query = {
    name              = var.name
    runtime_dir       = local.runtime_dir
    source_dir        = var.source_dir
    output_dir        = local.build_dir
    runtime           = var.runtime
    architecture      = var.architecture
    excludes          = jsonencode(var.source_excludes)
    requirements_file = var.requirements_file == null ? "" : var.requirements_file
    compile_bytecode  = var.compile_bytecode == null ? "auto" : tostring(var.compile_bytecode)
  }
  # The runtime layer: the same build, wsgate only, under python/.
  layer_query = merge(local.package_query, {
    name              = "${var.name}-wsgate-layer"
    layout            = "layer"
    requirements_file = ""
  })
  package_in_s3 = var.s3_bucket != null
  # Lambda quotas: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
  lambda_direct_upload_limit = 52428800  # 50 MB zipped, uploaded with the function
  lambda_unzipped_limit      = 262144000 # 250 MB unzipped, including layers

  # Paths only (fileset never reads contents): for the handler and wsgate/ preconditions.
  user_files = sort([
    for f in fileset(var.source_dir, "**") : f
    if length([for p in var.source_excludes : p if can(regex(p, f))]) == 0
  ])

  # "pkg.mod.func" lives in pkg/mod.py or pkg/mod/__init__.py
  handler_module = join("/", slice(split(".", var.handler), 0, length(split(".", var.handler)) - 1))
  authorizer_module = local.create_authorizer ? join("/", slice(
    split(".", var.authorizer_handler), 0, length(split(".", var.authorizer_handler)) - 1
  )) : ""
  # A handler module lives in source_dir, or in the runtime (e.g. "wsgate.compat.zappa.handler").
  handler_found = (
    fileexists("${var.source_dir}/${local.handler_module}.py") ||
    fileexists("${var.source_dir}/${local.handler_module}/__init__.py") ||
    (startswith(local.handler_module, "wsgate/") && fileexists("${local.runtime_dir}/${trimprefix(local.handler_module, "wsgate/")}.py"))
  )
  authorizer_found = local.create_authorizer && (
    fileexists("${var.source_dir}/${local.authorizer_module}.py") ||
    fileexists("${var.source_dir}/${local.authorizer_module}/__init__.py") ||
    (startswith(local.authorizer_module, "wsgate/") && fileexists("${local.runtime_dir}/${trimprefix(local.authorizer_module, "wsgate/")}.py"))
  )

  # ---------------------------------------------------------------- IAM
  # IAM names are account-wide; name_prefix makes Terraform add a unique 26-character suffix,
  # and a prefix may have at most 38 characters (64 - 26; provider docs of aws_iam_role), so
  # "<name>-dispatcher-" keeps the first 26 characters of the name.
  role_prefix       = substr(var.name, 0, min(length(var.name), 26))
  api_execution_arn = aws_apigatewayv2_api.this.execution_arn
  # The @connections API: POST sends, GET reads connection info, DELETE closes.
  manage_connections_arns = [
    for method in ["POST", "GET", "DELETE"] :
    "${local.api_execution_arn}/${var.stage_name}/${method}/@connections/*"
  ]
  # Exactly the operations the runtime performs on the table (tests/iam records them all and
  # fails on a missing or an unused action). TransactWriteItems is authorized per contained
  # item (PutItem, UpdateItem, DeleteItem, ConditionCheckItem), so it has no action of its own
  # (DynamoDB Developer Guide, "Using IAM with DynamoDB transactions").
  table_actions = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
  ]
  # The table has no secondary index, so the table's own ARN is the only resource.
  table_arns = [aws_dynamodb_table.this.arn]
  # The dispatcher's ARN, built from its name: referring to aws_lambda_function.dispatcher
  # would make its own role policy depend on it, a cycle. The execution ARN is
  # arn:{partition}:execute-api:{region}:{account}:{api id}. Invoke with the unqualified name is
  # authorized on the unqualified function ARN (Lambda developer guide, "Fine-tuning the
  # Resources and Conditions sections of policies").
  dispatcher_arn = format(
    "arn:%s:lambda:%s:%s:function:%s",
    local.partition,
    split(":", local.api_execution_arn)[3],
    split(":", local.api_execution_arn)[4],
    var.name,
  )

  sender_statements = concat([
    {
      Sid      = "ManageConnections"
      Effect   = "Allow"
      Action   = ["execute-api:ManageConnections"]
      Resource = local.manage_connections_arns
    },
    {
      Sid      = "ConnectionTable"
      Effect   = "Allow"
      Action   = local.table_actions
      Resource = local.table_arns
    },
    {
      # Fan-out: a large publish starts its shards as asynchronous invocations of the
      # dispatcher, and a shard short of time hands the rest to a new one (wsgate.fanout).
      Sid      = "FanOut"
      Effect   = "Allow"
      Action   = ["lambda:InvokeFunction"]
      Resource = [local.dispatcher_arn]
    },
    ], var.kms_key_arn == null ? [] : [
    {
      Sid      = "ConnectionTableKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource = [var.kms_key_arn]
    },
  ])

  # Statements every function the module creates gets besides its own log group.
  common_statements = concat(
    var.tracing_enabled ? [
      {
        # X-Ray's write actions support no resource-level permissions: "*" is the only valid Resource.
        Sid      = "XRayWrite"
        Effect   = "Allow"
        Action   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
        Resource = "*"
      },
    ] : [],
    var.kms_key_arn == null ? [] : [
      {
        Sid      = "DecryptEnvironment"
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [var.kms_key_arn]
      },
    ],
  )

  lambda_assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "LambdaAssumeRole"
        Effect    = "Allow"
        Action    = "sts:AssumeRole"
        Principal = { Service = "lambda.amazonaws.com" }
      },
    ]
  })

  # ---------------------------------------------------------------- logs
  # One JSON object per line; WebSocket $context variables only.
  access_log_format = jsonencode({
    requestId          = "$context.requestId"
    extendedRequestId  = "$context.extendedRequestId"
    requestTime        = "$context.requestTime"
    requestTimeEpoch   = "$context.requestTimeEpoch"
    eventType          = "$context.eventType"
    routeKey           = "$context.routeKey"
    connectionId       = "$context.connectionId"
    messageId          = "$context.messageId"
    status             = "$context.status"
    sourceIp           = "$context.identity.sourceIp"
    userAgent          = "$context.identity.userAgent"
    integrationStatus  = "$context.integration.status"
    integrationError   = "$context.integration.error"
    integrationLatency = "$context.integrationLatency"
    authorizerError    = "$context.authorizer.error"
    principalId        = "$context.authorizer.principalId"
    errorMessage       = "$context.error.message"
    errorResponseType  = "$context.error.responseType"
  })
}
