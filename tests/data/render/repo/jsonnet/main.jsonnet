local util = import 'util.libsonnet';
[
  util.cm('j-' + std.extVar('env')),
  util.cm(std.extVar('app')),
]
