/* The report's words in Korean: the twin of i18n-report.js, key for key. Terms follow
 * docs/ko (폴링, 롱 폴링, SSE, 웹소켓, 틱, 지연 시간, 연결, 재연결, 측정 안 됨, 모델 추정치).
 */
(function (messages) {
  'use strict';
  Object.assign(messages.ko, {
    'lang.switch': '언어',
    'notMeasured': '측정 안 됨',
    'notApplicable': '해당 없음',
    'better.lower': '낮을수록 좋음',
    'better.higher': '높을수록 좋음',
    'report.docTitle': 'pushlab — 결과 보고서',
    'report.title': 'pushlab 결과',
    'report.loading': '불러오는 중…',
    'report.open': '결과 파일 열기…',
    'report.demo': '라이브 데모',
    'report.summary': '측정한 것',
    'report.charts': '차트',
    'report.faultsTitle': '장애: 재시작, 크래시, 스트림 재활용, 재연결 폭주',
    'report.faultsReading': '서버가 계속 떠 있지 않을 때 각 전송 방식의 클라이언트가 겪은 일입니다. 장애와 전송 방식마다 한 번씩 ' +
      '실행했고, 각 클라이언트가 다시 틱을 받기까지 걸린 시간(복구 시간, <code>docs/ko/methodology.md</code>에 정의)과 그 비용을 ' +
      '보여 줍니다. 손실 틱은 서버 로그의 한 실행(에포크) 안에서만 셉니다. 재시작을 넘어 놓친 것은 알 수 없으므로 ' +
      '대신 리셋으로 셉니다.',
    'report.proxiesTitle': '각 프록시가 각 전송 방식에 한 일',
    'report.proxiesReading': '프록시 실습실(<code>docs/proxies.md</code>)의 프록시마다 전송 방식별로 한 번씩 실행했습니다. ' +
      '<em>고장</em>(틱 대부분이 오지 않음), <em>끊김</em>(프록시가 읽기 타임아웃 뒤 요청을 끝냄), ' +
      '<em>느려짐</em>(중앙값 지연 시간이 같은 실행의 직접 연결보다 크게 높음: 틱이 붙잡혀 있었음), <em>정상</em> 중 하나입니다 ' +
      '(<code>docs/ko/methodology.md</code>의 “프록시를 거친 결과의 판정”). 결과에 마우스를 올리면 근거가 보입니다.',
    'report.calibrationTitle': '이 머신의 보정',
    'report.numbersTitle': '모든 수치',
    'report.numbersReading': '열 하나가 실행 하나, 행 하나가 수치 하나입니다. 수치의 정의는 ' +
      '<code>docs/ko/methodology.md</code>에 있고, 이름은 결과 파일에 든 카탈로그에서 옵니다. 바이트는 10진 단위입니다 ' +
      '(1 kB = 1,000 B). “측정 안 됨”은 그 실행이 잴 수 없었던 수치이고, 빨간 숫자는 문제입니다 ' +
      '(손실, 중복, 늦은 틱, 오류). 수치에 마우스를 올리면 무엇인지, 어느 쪽이 좋은지 보입니다.',
    'report.drop': '결과 JSON 파일을 여기에 놓으면 열립니다',
    'report.embedded': '이 페이지에 들어 있는 결과',
    'report.notResults': '{source}는 pushlab 결과 파일이 아닙니다: {problems}.',
    'report.predates': '{source}는 수치 카탈로그보다 오래된 파일이고, /api/figures에서도 카탈로그를 가져오지 못했습니다. ' +
      '실행 중인 pushlab-server의 보고서에서 여세요.',
    'report.from': '출처: {source}',
    'report.noResults': '불러온 결과 없음',
    'report.fixture': '이 파일은 측정값이 아니라 테스트용 고정 데이터입니다.',
    'report.preset': '프리셋 “{preset}”: ',
    'report.faultKind': '{fault}({policy}, 클라이언트 {clients}개)',
    'report.faultRuns': '{preset}장애 실행 {count}회, 매번 새 서버를 상대로 했습니다: {kinds}. 각 측정 구간이 시작되고 1초 뒤에 ' +
      '서버를 죽이거나 재시작했고, 클라이언트는 다시 틱을 받을 때까지의 시간을 쟀습니다.',
    'report.runs': '{preset}{transports}, 클라이언트 {clients}개, {rates} 틱/s{listed}{polling}{duration}{sweep}.',
    'report.listed': ', 나열된 실행 {n}개(각 차트의 막대는 실행 하나의 설정)',
    'report.polling': ', 폴링 간격 {interval}',
    'report.duration': ', 실행마다 {seconds} s 측정',
    'report.sweep': ' — 클라이언트 수를 바꿔 가며 잰 스윕이므로 차트는 클라이언트 수에 대한 선으로 그립니다',
    'report.machine': '{date}에 실행, 코어 {cores}개, {memory}, {os}{kernel}. 전송 방식마다 새 서버 프로세스를 띄웠습니다.',
    'report.noDate': '(날짜 없음)',
    'report.noMemory': '메모리 ?',
    'report.noOs': '알 수 없는 OS',
    'report.kernel': ', 커널 {kernel}',
    'report.oldCatalogue': '이 파일은 결과 파일에 수치 카탈로그가 들어가기 전에 만들어졌습니다. 이름과 단위는 {whose}',
    'report.oldCatalogueServer': '서버의 것(/api/figures)입니다.',
    'report.oldCataloguePage': '앞서 보여 준 결과의 것입니다.',
    'report.busy': '부하 생성기가 실행 {n}개({runs})에서 코어 하나의 {pct} 이상을 썼습니다. 그 실행의 지연 시간 일부는 ' +
      '전송 방식이 아니라 부하 생성기의 몫일 수 있습니다.',
    'report.busyRun': '{transport} 클라이언트 {clients}개',
    'report.crowded': '실행 {n}개에서 머신의 부하 평균이 코어 수({cores}개)를 넘었습니다. ' +
      '다른 작업이 CPU를 두고 경쟁했으므로 그 수치는 덜 믿을 만합니다.',
    'report.calibrated': '이 결과를 만든 머신에서 작은 루프백 TCP 호출 하나에 드는 비용입니다. 실행 전에 pushlab-load가 측정했습니다 ' +
      '(docs/ko/methodology.md의 “보정” 참고. 지금 쓰는 머신은 “pushlab-load calibrate”로 잴 수 있습니다). ' +
      '전달한 틱당 서버 CPU를 이 send 횟수로도 보여 주므로 다른 머신의 결과끼리 비교할 수 있습니다. ' +
      '각 CPU 수치는 여러 라운드의 중앙값이고, 가장 빠른 라운드와 가장 느린 라운드를 함께 적었습니다. 중앙값이 ' +
      '가장 빠른 값보다 훨씬 높으면 머신이 바빴다는 뜻입니다.',
    'report.notCalibrated': '이 파일에는 보정이 없습니다. pushlab-load가 보정을 재기 전에 만들어졌으므로 틱당 서버 CPU도 ' +
      'send 횟수로 보여 줄 수 없습니다(측정 안 됨). 지금 쓰는 머신은 “pushlab-load calibrate”로 잽니다.',
    'report.calibrationHead': '루프백 TCP, TCP_NODELAY',
    'report.measured': '측정값',
    'report.spread': '가장 빠른 – 가장 느린 라운드',
    'report.badName': '“{name}”는 결과 파일 이름이 아닙니다(영문자, 숫자, - _ . 만 가능).',
    'report.serverAnswered': '서버 응답 {status}',
    'report.couldNotLoad': '{url}을 불러오지 못했습니다({error}). `just compare`로 만들거나, ' +
      '위의 버튼으로 결과 파일을 여세요(이 페이지에 끌어다 놓아도 됩니다).',
    'report.notJson': '{name}는 JSON이 아닙니다({error}).',
    'report.couldNotRead': '{name}을 읽지 못했습니다: {error}',
    'report.noChartLib': '차트 라이브러리(vendor/chart.umd.min.js)를 불러오지 못했습니다.',
    'report.badEmbedded': '이 페이지에 들어 있는 결과가 올바른 JSON이 아닙니다({error}).',
    'model.notObject': '파일이 JSON 객체가 아닙니다',
    'model.schema': 'schema가 {schema}인데, 이 페이지는 schema 1을 읽습니다',
    'model.noRuns': '"runs" 목록이 없습니다',
    'model.badRun': '"transport"나 "clients"가 없는 실행이 있습니다',
    'model.badCatalogue': '"catalogue"에 수치나 그룹 목록이 없습니다',
    'model.rate': '{rate} 틱/s',
    'model.pollEvery': '폴링 간격 {interval}',
    'model.coalesce': '쓰기 병합 {ms}',
    'model.link': '링크 {name} (RTT {rtt})',
    'model.keepalive': '킵얼라이브 {ms}',
    'model.clients': '클라이언트 {n}개',
    'model.loopback': '루프백 보정',
    'chart.latency.title': '지연 시간 백분위수',
    'chart.latency.reading': '틱이 예정된 시각부터 클라이언트에 도착하기까지의 시간을 백분위수별로, 로그 눈금에 그렸습니다 ' +
      '(격자 한 칸이 아래 칸의 열 배). 낮을수록 좋고, 폴링은 설계상 폴링 간격의 절반 근처에 머뭅니다.',
    'chart.latency.sweep': '선: p99 실선, p50 점선.',
    'chart.requests.title': '클라이언트당 분당 요청',
    'chart.requests.reading': '클라이언트 하나가 분마다 보낸 HTTP 요청(또는 웹소켓 핸드셰이크)입니다. 폴링은 바뀐 것이 없어도 ' +
      '간격마다 하나, 롱 폴링은 응답마다 하나를 치르고, SSE와 웹소켓은 연결 하나뿐입니다 ' +
      '(측정 구간 전에 연결했으므로 구간 안에서는 보통 0).',
    'chart.bytes.title': '전달한 틱당 전송 바이트',
    'chart.bytes.reading': '클라이언트 소켓에서 읽고 쓴 바이트(헤더와 프레이밍 포함)를 전달한 틱 수로 나눈 값입니다. ' +
      '틱의 JSON은 약 70바이트이므로, 나머지는 전송 방식이 와이어에 더하는 몫입니다.',
    'chart.cpu.title': '전달한 틱당 서버 CPU',
    'chart.cpu.reading': '측정 구간 동안의 서버 CPU 시간(user + system)을 전달한 틱 수로 나눈 값입니다. ' +
      '쓸모 있는 메시지 하나가 서버에 드는 비용이며, 낮을수록 좋습니다.',
    'chart.cpu-sends.title': '전달한 틱당 서버 CPU(send 횟수)',
    'chart.cpu-sends.reading': '같은 CPU를, 측정한 머신에서 기다리는 수신자에게 작은 루프백 send() 하나가 드는 비용(차트 아래의 ' +
      '보정)으로 나눈 값입니다. 1×는 틱당 send 하나만큼이며, 틱마다 따로 호출해서 쓰는 서버의 바닥값쯤 됩니다. ' +
      'µs와 달리 머신끼리 비교할 수 있습니다.',
    'chart.cpu-sends.axis': '× send() 1회',
    'chart.memory.title': '연결당 서버 메모리',
    'chart.memory.reading': '연결된 클라이언트 하나당 서버가 차지하는 메모리(RSS, 힙)로, 클라이언트가 없을 때와 모두 연결됐을 때의 ' +
      '차이에서 구했습니다. 커널이 서버 소켓마다 잡는 몫도 함께 보여 줍니다. 버퍼에 든 데이터(커널이 소켓별로 ' +
      '알려 주는 값)와 소켓 객체 자체(slab 크기)입니다. 폴링 클라이언트도 폴링 사이에 킵얼라이브 연결을 열어 두는 ' +
      '동안에는 이 비용을 치릅니다.',
    'chart.memory.sweep': '선: RSS 실선, 힙 점선(커널 수치는 표에 있습니다).',
    'chart.coalescing.title': '쓰기 병합: 틱당 서버 CPU에 대한 지연 시간',
    'chart.coalescing.reading': '점 하나가 실행 하나이고, 선은 --coalesce {values}(0 = 끔)를 차례로 지납니다. ' +
      '오른쪽일수록 전달한 틱당 서버 CPU가 많이 들고, 위쪽일수록 오래 기다립니다. 쓰기 병합은 틱당 쓰기 횟수를 ' +
      '최대 그 지연만큼의 지연 시간과 맞바꿉니다. 실선 p99, 점선 p50이며, 점에 마우스를 올리면 값이 보입니다.',
    'chart.coalescing.x': '전달한 틱당 서버 CPU(µs)',
    'chart.coalescing.tooltip': '{label}: {latency}, 틱당 {cpu}, 쓰기 병합 {coalesce}',
    'chart.latencyAxis': '지연 시간',
    'chart.clientsAxis': '클라이언트',
    'chart.aria': '{title}, 단위 {axis}',
    'chart.rtt.title': '링크 왕복 시간에 대한 지연 시간',
    'chart.rtt.reading': '점 하나가 에뮬레이션한 링크 위의 실행 하나입니다(마우스를 올리면 이름이 보입니다). 가로축은 링크의 왕복 시간입니다. ' +
      'SSE와 웹소켓은 편도 한 번쯤을 치르고, 늘 기다리는 틱이 있는 롱 폴링은 응답마다 왕복 한 번을, ' +
      '폴링은 간격의 절반에 편도 한 번을 치릅니다. 손실이 있는 링크는 p50(점선)보다 p99(실선)에 드러납니다. 세그먼트 하나를 ' +
      '잃으면 재전송 타임아웃 동안 그 스트림이 멈추고, 뒤의 틱이 모두 기다리기 때문입니다.',
    'chart.rtt.x': '링크 왕복 시간(ms)',
    'chart.rtt.tooltip': '{label}, {link} 링크: {latency}',
    'chart.radio.axis': '클라이언트당 시간당 J(모델 추정치)',
    'chart.radio.title': '클라이언트당 라디오 에너지, {model} 모델 — 측정한 타이밍에 적용한 모델 추정치',
    'chart.radio.reading': '클라이언트의 측정한 소켓 활동이 휴대폰의 {model} 라디오에 유휴 상태보다 시간당 얼마를 더 쓰게 할지 ' +
      '추정한 값입니다(docs/ko/methodology.md의 “라디오 모델”). 배터리를 잰 값이 아닙니다. 라디오는 데이터가 오간 뒤 ' +
      '몇 초 동안 고전력 상태에 머물므로, 바이트가 얼마나 많은지보다 얼마나 자주 오는지(폴링, 틱, 킵얼라이브)가 중요합니다.',
    'table.figure': '수치',
    'table.run': '클라이언트 {clients}개, {rate}{coalesce}{protocol}',
    'table.coalesce': ', 쓰기 병합 {ms}',
    'table.streams': ' × 스트림 {n}개',
    'table.better': ' ({better})',
    'table.overTls': 'TLS 위 {name}',
    'fault.restart': '정상 재시작(SIGTERM 후 새 서버)',
    'fault.crash': '크래시(SIGKILL 후 새 서버)',
    'fault.recycle': '스트림 재활용(--stream-max-age)',
    'fault.storm': '재연결 폭주(모두 연결된 상태에서 SIGKILL)',
    'fault.group': '{name} — 클라이언트 {clients}개, 재연결 정책 {policy}',
    'fault.connects.title': '재연결 폭주: 초당 연결',
    'fault.connects.axis': '초당 연결',
    'fault.connects.reading': '클라이언트가 완료한 TCP 연결을 100 ms 단위로, SIGKILL(0 ms) 1초 전부터 셌습니다. ' +
      '실선은 고정 1 s 뒤에, 점선은 지터를 두고 재연결합니다. 고정 지연은 군중 전체를 한꺼번에 ' +
      '되돌리고, 완전 지터는 백오프에 걸쳐 흩어 놓습니다. SSE는 어느 쪽이든 EventSource처럼 서버의 retry를 기다립니다.',
    'fault.cpu.title': '재연결 폭주: 서버 CPU',
    'fault.cpu.axis': '코어 하나의 %',
    'fault.cpu.reading': '서비스 중인 프로세스의 CPU를 100 ms 단위로 보여 줍니다(SIGKILL까지는 이전 프로세스, 그 뒤로는 새 ' +
      '프로세스. 어느 쪽도 읽지 못한 동안은 빈칸). 핸드셰이크, 리셋, 리플레이가 몰리는 것이 새 서버가 치르는 폭주의 비용입니다.',
    'fault.neverRecovered': '{transport}: 클라이언트 {n}개가 끝내 복구되지 않음',
    'fault.fromStreamEnd': '각 스트림이 끝난 때',
    'fault.fromInstant': '장애가 난 순간',
    'fault.reading': '{from}부터 클라이언트가 새 연결로 첫 틱을 받기까지의 시간이며, 모든 클라이언트에 대한 값입니다 ' +
      '(docs/ko/methodology.md의 “복구 시간”).',
    'fault.axis': '복구 시간',
    'fault.title': '복구: {group}',
    'fault.stormX': 'SIGKILL 뒤 ms',
    'fault.series': '{transport}, {policy}',
    'fault.column': '{fault}, {policy}',
    'proxy.transport': '전송 방식',
    'proxy.rate': '{rate} 틱/s',
    'proxy.keepalive': '킵얼라이브 {keepalive}',
    'value.restart': '재시작', 'value.crash': '크래시', 'value.recycle': '재활용', 'value.storm': '폭주',
    'value.fixed': '고정', 'value.jitter': '지터', 'value.none': '없음', 'value.off': '끔',
    'value.works': '정상', 'value.broken': '고장', 'value.cut': '끊김', 'value.slowed': '느려짐',
    'value.direct': '직접 연결', 'value.not-compared': '비교 안 됨', 'value.no stream': '스트림 없음',
  });
})((window.pushlab = window.pushlab || {}).messages = window.pushlab.messages || { en: {}, ko: {} });
