# The kernel's own zram selftests (tools/testing/selftests/zram from the
# downloaded 7.3 source: zram.sh runs zram01.sh, ext4 on a 2 MiB device
# filled with zeros and a compression-ratio check, and zram02.sh, swap on a
# 1 MiB device), run by bash against $DRV. For rzram only names change, in
# a copy under /tmp: /dev/zram, /sys/block/zram, /sys/class/zram-control,
# "modprobe zram", "rmmod zram" and the /proc/modules pattern '^zram'
# become their rzram forms; under zram the scripts run as shipped.
# Their output is turned into PASS/FAIL lines: every "NAME: OK" step, any
# line starting with FAIL (the scripts print those without failing), each
# script's "zram0N : [PASS]" verdict and zram.sh's exit status.
. /tests/lib.sh

# The driver must load (load is fatal otherwise); the selftests load it
# themselves.
load
unload

W=/tmp/selftests-zram
rm -rf $W; mkdir -p $W
cp /selftests/zram/*.sh $W/
if [ "$DRV" != zram ]; then
    for f in $W/*.sh; do
        sed -i -e "s#/dev/zram#/dev/$DRV#g" \
            -e "s#/sys/block/zram#/sys/block/$DRV#g" \
            -e "s#/sys/class/zram-control#/sys/class/$DRV-control#g" \
            -e "s#modprobe zram#modprobe $DRV#g" \
            -e "s#rmmod zram#rmmod $DRV#g" \
            -e "s#'^zram'#'^$DRV'#g" $f
        n=$(diff /selftests/zram/$(basename $f) $f | grep -v '^+++' | grep -c '^+')
        note "$(basename $f): $n lines with names substituted"
    done
fi
check "bash is there" test -x /bin/bash

cd $W || exit 1
bash ./zram.sh > /tmp/upstream.out 2>&1
rc=$?
sed 's/^/# | /' /tmp/upstream.out

script=zram01
verdicts=
while IFS= read -r line; do
    case $line in
        FAIL*) fail "$script: $line" ;;
        *": OK") pass "$script: $line" ;;
        "zram0"[0-9]" : [PASS]") pass "${line%% *} verdict [PASS]"; verdicts="$verdicts ${line%% *}"; script=zram02 ;;
        "zram0"[0-9]" : [FAIL]") fail "${line%% *} verdict [FAIL]"; verdicts="$verdicts ${line%% *}"; script=zram02 ;;
    esac
done < /tmp/upstream.out
expect_eq "both scripts gave a verdict" "$verdicts" " zram01 zram02"
expect_eq "zram.sh exit status" "$rc" 0
cd /
check "no $DRV device left" test ! -e $SYS
summary
