<#
.SYNOPSIS
  Build the MCP cluster images (thin wrapper around the Invoke task library).
.DESCRIPTION
  Maps the original parameters onto `invoke build.*`; run from the repository root after
  scripts/setup.sh (or `pip install .[dev]`). `invoke --list` shows every task.
.EXAMPLE
  .devcontainer/scripts/build-mcp.ps1 -All -Parallel
  .devcontainer/scripts/build-mcp.ps1 -ServerName fetch -NoCacheParam
#>
[CmdletBinding()]
param(
  [string]$ServerName,
  [string]$ContainerName,
  [switch]$All,
  [switch]$NoCacheParam,
  [switch]$Parallel,
  [switch]$PullBase,
  [string]$Profile
)
$ErrorActionPreference = 'Stop'
$options = @()
if ($NoCacheParam) { $options += '--no-cache' }
if ($Parallel) { $options += '--parallel' }
if ($PullBase) { $options += '--pull' }
if ($Profile) { $options += @('--profile', $Profile) }

if ($ServerName) {
  $task = @('build.mcp', '--name', $ServerName)
} elseif ($ContainerName) {
  $task = @('build.containers', '--name', $ContainerName)
} elseif ($All) {
  $task = @('build.all')
} else {
  Write-Error 'Choose -All, -ServerName NAME or -ContainerName NAME'
}
& invoke @task @options
exit $LASTEXITCODE
