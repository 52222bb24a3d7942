function(replicas=1, name='x') {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: name },
  spec: { replicas: replicas },
}
