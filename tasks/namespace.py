"""The root invoke namespace: every task collection of the library."""

from invoke.collection import Collection

from tasks import (
    build_tasks,
    buildkit_tasks,
    check_tasks,
    docs_tasks,
    doctor_tasks,
    env_tasks,
    images_tasks,
    mcp_tasks,
    monitoring_tasks,
    perf_tasks,
    phase_tasks,
    python_tasks,
    stack_tasks,
    up_tasks,
    verify_tasks,
    volume_tasks,
)

namespace = Collection()
namespace.add_task(check_tasks.check)
namespace.add_task(doctor_tasks.doctor)
namespace.add_task(perf_tasks.perf)
namespace.add_task(up_tasks.up)
namespace.add_collection(Collection("docs", docs_tasks.docs_check))
namespace.add_collection(Collection("images", images_tasks.images_lock))
namespace.add_collection(Collection("buildkit", buildkit_tasks.buildkit_certs))
namespace.add_collection(
    Collection("env", env_tasks.env_show, env_tasks.env_check, env_tasks.env_init)
)
namespace.add_collection(
    Collection(
        "build",
        build_tasks.build_all,
        build_tasks.build_mcp,
        build_tasks.build_containers,
        build_tasks.build_seed,
        build_tasks.build_cache,
        build_tasks.build_bake_file,
    )
)
namespace.add_collection(
    Collection(
        "mcp",
        mcp_tasks.mcp_config,
        mcp_tasks.mcp_list,
        mcp_tasks.mcp_probe,
        mcp_tasks.mcp_clean,
        mcp_tasks.mcp_audit,
    )
)
namespace.add_collection(Collection("monitoring", monitoring_tasks.monitoring_dashboards))
namespace.add_collection(
    Collection("python", python_tasks.freethreaded, python_tasks.pin, python_tasks.sync)
)
namespace.add_collection(
    Collection(
        "stack",
        stack_tasks.stack_up,
        stack_tasks.stack_down,
        stack_tasks.stack_ps,
        stack_tasks.stack_health,
        stack_tasks.stack_logs,
        stack_tasks.stack_restart,
    )
)
namespace.add_collection(
    Collection(
        "volumes",
        volume_tasks.volumes_list,
        volume_tasks.volumes_backup,
        volume_tasks.volumes_restore,
    )
)
namespace.add_collection(
    Collection(
        "verify",
        verify_tasks.verify_all,
        verify_tasks.verify_health,
        verify_tasks.verify_network,
        verify_tasks.verify_volumes,
        verify_tasks.verify_gpu,
        verify_tasks.verify_monitoring,
        verify_tasks.verify_freethreading,
        verify_tasks.verify_logs,
        verify_tasks.verify_client,
    )
)
namespace.add_collection(Collection("phase", phase_tasks.phase_run, phase_tasks.phase_status))
