"""The root invoke namespace: every task collection of the library."""

from invoke.collection import Collection

from tasks import check_tasks, docs_tasks, env_tasks

namespace = Collection()
namespace.add_task(check_tasks.check)
namespace.add_collection(Collection("docs", docs_tasks.docs_check))
namespace.add_collection(Collection("env", env_tasks.env_show, env_tasks.env_check))
