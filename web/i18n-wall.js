/* The six-connection wall's words in English and Korean (see i18n.js). */
(function (messages) {
  'use strict';
  Object.assign(messages.en, {
    'lang.switch': 'language',
    'wall.docTitle': 'pushlab — the six-connection wall',
    'wall.title': 'Seven tabs: the six-connection wall',
    'wall.subtitle': 'eight EventSource streams to one host, opened at once from this page',
    'wall.demo': 'live demo',
    'wall.report': 'results report',
    'wall.talks': 'This page talks <strong id="protocol" translate="no">…</strong> to this host.',
    'wall.opening': 'Opening 8 streams…',
    'wall.explain': 'Over HTTP/1.1 a browser opens at most 6 connections to one host, and an open ' +
      'SSE stream keeps its connection for good: streams 7 and 8 wait for one that never frees ' +
      '(as would a seventh tab of the same site). Over HTTP/2 every stream is a stream of one ' +
      'connection, and all 8 flow. Serve it with <code>--tls</code> and open it over ' +
      '<code>https://</code> to see the difference.',
    'wall.streams': 'Streams',
    'wall.stream': 'stream {index}',
    'wall.ticks': 'ticks',
    'wall.connecting': 'connecting…',
    'wall.connected': 'connected',
    'wall.openedAfter': 'opened after {ms} ms',
    'wall.waiting': 'waiting for a free connection',
    'wall.noTick': 'no tick while the others hold theirs',
    'wall.wall': '{connected} of {streams} streams flowing; {waiting} waiting for a free connection: ' +
      'the browser\'s limit of 6 connections per host over HTTP/1.1.',
    'wall.flowing': 'All {streams} streams flowing over one host.',
  });
  Object.assign(messages.ko, {
    'lang.switch': '언어',
    'wall.docTitle': 'pushlab — 연결 6개의 벽',
    'wall.title': '탭 일곱 개: 연결 6개의 벽',
    'wall.subtitle': '호스트 하나에 EventSource 스트림 8개를 이 페이지에서 한꺼번에 엽니다',
    'wall.demo': '라이브 데모',
    'wall.report': '결과 보고서',
    'wall.talks': '이 페이지는 이 호스트와 <strong id="protocol" translate="no">…</strong>로 통신합니다.',
    'wall.opening': '스트림 8개를 여는 중…',
    'wall.explain': 'HTTP/1.1에서 브라우저는 호스트 하나에 연결을 최대 6개까지만 열고, 열린 ' +
      'SSE 스트림은 그 연결을 계속 차지합니다. 그래서 스트림 7과 8은 끝내 비지 않는 연결을 기다립니다 ' +
      '(같은 사이트의 일곱 번째 탭도 그렇습니다). HTTP/2에서는 모든 스트림이 연결 하나 안의 ' +
      '스트림이므로 8개가 모두 흐릅니다. <code>--tls</code>로 띄우고 <code>https://</code>로 열어 ' +
      '차이를 보세요.',
    'wall.streams': '스트림',
    'wall.stream': '스트림 {index}',
    'wall.ticks': '틱',
    'wall.connecting': '연결 중…',
    'wall.connected': '연결됨',
    'wall.openedAfter': '{ms} ms 뒤에 열림',
    'wall.waiting': '빈 연결을 기다리는 중',
    'wall.noTick': '다른 스트림이 연결을 붙잡고 있는 동안 틱 없음',
    'wall.wall': '스트림 {streams}개 중 {connected}개가 흐르고, {waiting}개는 빈 연결을 기다립니다. ' +
      'HTTP/1.1에서 호스트당 연결 6개라는 브라우저의 한계입니다.',
    'wall.flowing': '스트림 {streams}개가 모두 호스트 하나로 흐릅니다.',
  });
})((window.pushlab = window.pushlab || {}).messages = window.pushlab.messages || { en: {}, ko: {} });
