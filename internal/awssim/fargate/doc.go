// Package fargate runs the containers of an ECS task definition the way
// Fargate runs them, on this machine, for tests only: each container in a
// bubblewrap (bwrap) sandbox with its own mount, PID, IPC and UTS
// namespaces, and S3 behind the task role's policy.
//
// What a task gets, and the source of each behaviour:
//
//   - The command: entryPoint and command of the container definition
//     replace the image's ENTRYPOINT and CMD, Docker's rules (a set
//     entryPoint also drops the image's CMD; ContainerDefinition.entryPoint
//     and .command, Amazon ECS API reference, map to Docker's --entrypoint
//     and COMMAND). The process is PID 1 of its namespace, as in a container
//     without initProcessEnabled: a SIGTERM it does not handle is ignored
//     (pid_namespaces(7)).
//   - user: the definition's, else the image's USER, else root; "uid",
//     "uid:gid", "name" or "name:group" (ContainerDefinition.user).
//   - The environment: the image's ENV (PATH defaulting to Docker's), then
//     what ECS adds (AWS_EXECUTION_ENV, AWS_REGION, AWS_DEFAULT_REGION, the
//     task metadata endpoint ECS_CONTAINER_METADATA_URI_V4 and, with a task
//     role, the credentials endpoint), then the definition's environment;
//     HOSTNAME, and HOME from the user's passwd entry unless set (Docker).
//     Nothing of the test process leaks in.
//   - The file system: the image's root is read-only with
//     readonlyRootFilesystem, and only the declared mountPoints are
//     writable (their readOnly flag respected). Each task volume (a bind
//     mount volume without host path) is an empty directory owned by root,
//     mode 0755, shared by the containers mounting it: "ECS mounts it as
//     writable only by root" (github.com/aws/containers-roadmap/issues/938).
//   - dependsOn: START, COMPLETE, SUCCESS and HEALTHY as the API reference
//     describes ContainerDependency; a condition that can no longer be met
//     keeps the container from starting; startTimeout gives up resolving.
//     RegisterTaskDefinition's rules are enforced first: SUCCESS and
//     COMPLETE may not name an essential container, HEALTHY needs a health
//     check.
//   - Stopping: when an essential container exits (or Stop is called) every
//     container is stopped, in the reverse order of the dependencies
//     ("ContainerDependency": "for container stop, the order is reversed"):
//     SIGTERM, then SIGKILL after stopTimeout (30 s by default on Fargate).
//   - The task role: its credentials come from a loopback endpoint through
//     AWS_CONTAINER_CREDENTIALS_FULL_URI (Fargate sets
//     AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, on 169.254.170.2, which a test
//     cannot listen on); every S3 request made with them is evaluated
//     against the role's policies by S3 (s3.go).
//
// Where it is kinder than Fargate (docs/development.md, "The simulated
// cloud"): the image's root is this machine's /usr and /etc, not the image
// (so tools the image lacks would be found); no image pull, no ENI or
// security groups (the network namespace is the host's, loopback only by
// the tests' own discipline), no CPU or memory limits, no log driver, and a
// health check runs in a sibling sandbox with the same mounts, not inside
// the container's namespaces.
package fargate
