# Shared by the benchmarks: min/median/max of a file of figures, and the
# median alone. (Sourced; POSIX sh.)
# shellcheck shell=sh

# stats FILE FORMAT: "min median max" of the numbers in FILE, each printed
# with FORMAT (e.g. %8.3f).
stats() {
	sort -n "$1" | awk -v f="${2:-%8.3f}" '{v[NR]=$1} END{m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf f " " f " " f, v[1], m, v[NR]}'
}

# median FILE
median() {
	sort -n "$1" | awk '{v[NR]=$1} END{m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; print m}'
}
