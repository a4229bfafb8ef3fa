// The Dev Container JSON schema for a devcontainer.json on Docker Compose, as JSON Schema
// draft-07 for ajv. Written here from the spec's property reference (containers.dev,
// "Dev Container metadata reference": general, Compose-specific and lifecycle properties)
// and its base schema (devcontainers/spec, schemas/devContainer.base.schema.json): the
// @devcontainers/cli package (0.89.0) ships no schema file, only one bundled script, and no
// npm package carries the spec's. Strict where the spec is: an unknown property, a
// "host:port" that is no host name, a memory size without a known unit are refused.

const command = {
  oneOf: [
    { type: 'string' },
    { type: 'array', items: { type: 'string' } },
    {
      type: 'object',
      additionalProperties: {
        oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
      },
    },
  ],
};

const portAttributes = {
  type: 'object',
  additionalProperties: false,
  properties: {
    label: { type: 'string' },
    onAutoForward: {
      enum: ['notify', 'openBrowser', 'openBrowserOnce', 'openPreview', 'silent', 'ignore'],
    },
    elevateIfNeeded: { type: 'boolean' },
    requireLocalPort: { type: 'boolean' },
    protocol: { enum: ['http', 'https'] },
  },
};

const size = { type: 'string', pattern: '^\\d+([tgmk]b)?$' };

export const composeDevContainerSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['dockerComposeFile', 'service', 'workspaceFolder'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string' },
    // Compose-specific.
    dockerComposeFile: {
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1 }],
    },
    service: { type: 'string' },
    runServices: { type: 'array', items: { type: 'string' }, uniqueItems: true },
    workspaceFolder: { type: 'string' },
    shutdownAction: { enum: ['none', 'stopCompose'] },
    overrideCommand: { type: 'boolean' },
    // General.
    forwardPorts: {
      type: 'array',
      items: {
        oneOf: [
          { type: 'integer', minimum: 0, maximum: 65535 },
          { type: 'string', pattern: '^([a-z0-9-]+):(\\d{1,5})$' },
        ],
      },
    },
    portsAttributes: { type: 'object', additionalProperties: portAttributes },
    otherPortsAttributes: portAttributes,
    remoteEnv: { type: 'object', additionalProperties: { type: ['string', 'null'] } },
    remoteUser: { type: 'string' },
    containerEnv: { type: 'object', additionalProperties: { type: 'string' } },
    containerUser: { type: 'string' },
    updateRemoteUserUID: { type: 'boolean' },
    userEnvProbe: { enum: ['none', 'loginShell', 'loginInteractiveShell', 'interactiveShell'] },
    init: { type: 'boolean' },
    privileged: { type: 'boolean' },
    capAdd: { type: 'array', items: { type: 'string' } },
    securityOpt: { type: 'array', items: { type: 'string' } },
    mounts: { type: 'array', items: { type: ['string', 'object'] } },
    features: { type: 'object' },
    overrideFeatureInstallOrder: { type: 'array', items: { type: 'string' } },
    customizations: { type: 'object' },
    hostRequirements: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cpus: { type: 'integer', minimum: 1 },
        memory: size,
        storage: size,
        gpu: { oneOf: [{ type: 'boolean' }, { const: 'optional' }, { type: 'object' }] },
      },
    },
    // Lifecycle.
    initializeCommand: command,
    onCreateCommand: command,
    updateContentCommand: command,
    postCreateCommand: command,
    postStartCommand: command,
    postAttachCommand: command,
    waitFor: {
      enum: [
        'initializeCommand',
        'onCreateCommand',
        'updateContentCommand',
        'postCreateCommand',
        'postStartCommand',
      ],
    },
  },
} as const;
