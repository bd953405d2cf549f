#!/usr/bin/env bash
# Submits a matrix as a Slurm job array of SHARDS shards and a merge job that runs after all of them succeeded.
#   MATRIX=matrices/quick.yaml deploy/slurm/submit.sh 7
# Results: RESULTS/shards/<i> per shard, RESULTS/merged once merged (RESULTS defaults to results/slurm/<matrix file name>).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
shards=${1:-7}
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SHARDS]  (a positive whole number)" >&2; exit 2; }
export SHARDS=$shards   # the tasks' shard count, whatever SHARDS the calling shell had
array=$(sbatch --parsable --array="0-$((shards - 1))" "$here/shards.sbatch")
array=${array%%;*}   # --parsable prints JOBID or JOBID;CLUSTER
merge=$(sbatch --parsable --dependency="afterok:$array" "$here/merge.sbatch")
echo "submitted $shards shards as job array $array and their merge as job ${merge%%;*} (after all shards succeed)"
