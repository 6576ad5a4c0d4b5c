#!/bin/sh
# A pipe: processor in shell with jq, the worked example of
# bullmq-processor(7): it answers the hello, then completes each job with
# its data as the return value, after a progress report and a log line.
# Jobs whose data has "fail" fail with that reason.
#
#   bullmq-master -q emails -x 'pipe:/bin/sh /path/to/echo.sh'
set -u
while IFS= read -r line; do
	case $(printf '%s\n' "$line" | jq -r .type) in
	hello)
		echo '{"type":"hello","protocol":1}'
		;;
	job)
		id=$(printf '%s\n' "$line" | jq -c .id)
		echo '{"type":"progress","progress":50}'
		printf '{"type":"log","line":%s}\n' \
		    "$(printf 'working on %s' "$id" | jq -Rs .)"
		reason=$(printf '%s\n' "$line" | jq -c '.data.fail // empty')
		if [ -n "$reason" ]; then
			printf '{"type":"fail","reason":%s}\n' "$reason"
		else
			printf '{"type":"done","result":%s}\n' \
			    "$(printf '%s\n' "$line" | jq -c .data)"
		fi
		;;
	esac
done
